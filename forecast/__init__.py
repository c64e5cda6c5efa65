"""Forecasting: observations and NWP readers, the AQI engine, the probabilistic model, verification."""
