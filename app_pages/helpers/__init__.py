"""Helpers only the Streamlit pages use: charts, knowledge-editor forms, profile edits, feedback, chat history."""
