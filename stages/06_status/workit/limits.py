"""NEW(06_status): nothing to write here in this step.

The kata's reference app limits POST /mailers here, per client and per recipient, with
Flask-Limiter and Redis: a hardening beyond this step. Step 07's skeleton has it in full, with
why each limit is there: stages/07_scale/workit/limits.py.
"""
