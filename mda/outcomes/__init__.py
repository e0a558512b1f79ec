"""Outcomes: the safety judgement at closure and the follow-up twelve months later."""
