"""Steering information (stuurinformatie): aggregates from non-identifying fields only."""
