"""``dockergen init``: ``detect`` finds the apps in a repository, ``starter`` writes a
commented spec for them."""
