"""Dash pages of the dashboard (one module per page; see :mod:`dashboard.app`)."""
