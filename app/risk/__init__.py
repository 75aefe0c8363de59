"""Complaint-risk detection: finds the signs of a coming complaint in debtors' messages."""
