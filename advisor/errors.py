class BadInput(ValueError):
    """Input a user can fix; faces show the message on one line, without a traceback."""
