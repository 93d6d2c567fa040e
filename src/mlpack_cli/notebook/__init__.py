"""Notebook reading and conversion into pipeline modules."""
