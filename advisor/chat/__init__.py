"""The chat: reading a turn, gathering its context, and the engines that answer it."""
