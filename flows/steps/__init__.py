"""The steps of one year (flows/plan.py runs them in order), one module per stage."""
