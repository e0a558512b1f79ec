"""What needs the user today: the start page per role, "Mijn taken" and the menu counts.

Nothing here reads a table itself: each item comes from the queries of the area that owns it
(journal, huisverbod, safety, cases, referrals, and follow-up checks once they exist)."""
