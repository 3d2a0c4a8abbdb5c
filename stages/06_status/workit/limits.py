"""NEW(06_status): nothing to write here in this step.

The finished app (solutions/06_status) limits POST /mailers here, per client and per recipient,
with Flask-Limiter and Redis: a hardening beyond this step (README, "What can go wrong").
"""
