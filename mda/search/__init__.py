"""Finding a case or referral from the header box: by case number, BSN, name (with or without
date of birth) or family label, within what the user may see."""
