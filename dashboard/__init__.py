"""Dash + Plotly web app for the consultation, the emergency command and enterprises."""
