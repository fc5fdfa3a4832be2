"""What looks sensitive: variable names that probably hold a secret, and install files
that write out a registry credential. Shared by validation, lint, rendering
(.env.example), import and init; plain functions over ``re``, cheap to import."""

from __future__ import annotations

import functools
import os
import re

from dockergen.safe_read import read_regular

# Secret-like names are judged by their words (split at `_`, `-`, `.`), not substrings:
# MONKEY_MODE, KEYCLOAK_URL and TOKENIZER_MODEL hold no secret. A word counts when it is one of
# SECRET_WORDS or, glued, ends in one of SECRET_ENDINGS (DBPASSWORD, GITHUBTOKEN, APIKEY).
SECRET_WORDS = frozenset(
    {"PASSWORD", "PASSWD", "PASS", "SECRET", "SECRETS", "TOKEN", "TOKENS", "KEY", "KEYS", "CREDENTIAL", "CREDENTIALS", "PRIVATE"}
)
SECRET_ENDINGS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "PRIVKEY", "CREDENTIALS")
# ...unless the name says its value only points at or names the secret (SECRET_KEY_FILE,
# TOKEN_URL, DB_PASSWORD_PATH), or is public by design (PUBLIC_KEY, NEXT_PUBLIC_*,
# COREPACK_INTEGRITY_KEYS: keys to verify signatures with).
NOT_SECRET_LAST_WORDS = frozenset({"FILE", "PATH", "DIR", "URL", "URI", "HOST", "PORT", "NAME", "USER", "USERNAME"})
NOT_SECRET_WORDS = frozenset({"PUBLIC", "INTEGRITY"})


@functools.lru_cache(maxsize=4096)  # asked for every variable of every service x environment
def looks_secret(name: str) -> bool:
    """Whether a variable named ``name`` probably holds a secret value (see SECRET_WORDS)."""
    words = [word for word in re.split(r"[_.-]+", name.upper()) if word]
    if not words or words[-1] in NOT_SECRET_LAST_WORDS or NOT_SECRET_WORDS.intersection(words):
        return False
    return any(word in SECRET_WORDS or word.endswith(SECRET_ENDINGS) for word in words)


# A registry credential written into an install file (.npmrc, .yarnrc, .yarnrc.yml); a
# `${VAR}` reference is not one, npm and yarn read the variable when they run.
REGISTRY_CREDENTIAL = re.compile(r"(?im)^\s*(?:\S*:)?(?:_authToken|_auth|_password|npmAuthToken|npmAuthIdent)\s*[=:]\s*(?![\"']?\$\{)[\"']?\S")


def holds_credential(path: str | os.PathLike[str]) -> bool:
    """Whether the file at ``path`` (an install file; folders hold none) writes out a credential."""
    try:
        # Scanned, never written back: replacement characters lose nothing here.
        return os.path.isfile(path) and REGISTRY_CREDENTIAL.search(read_regular(path).decode("utf-8", "replace")) is not None
    except OSError:
        return False
