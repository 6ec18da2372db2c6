import pytest

from service.passwords import hash_password, verify_password
from service.tokens import (TokenError, sign_access_token, sign_oca_token, verify_access_token,
                            verify_oca_token)

SECRET = b"s" * 32


def test_oca_token_round_trip_and_binding() -> None:
    token = sign_oca_token(SECRET, "m1", "device-1", 2000)
    claims = verify_oca_token(SECRET, token, "m1", now=1999)
    assert (claims.media_id, claims.device_id, claims.expires_at) == ("m1", "device-1", 2000)
    with pytest.raises(TokenError, match="forged"):
        verify_oca_token(SECRET, token, "m2", now=1999)  # another media id
    with pytest.raises(TokenError, match="forged"):
        verify_oca_token(b"x" * 32, token, "m1", now=1999)  # another secret
    with pytest.raises(TokenError, match="expired"):
        verify_oca_token(SECRET, token, "m1", now=2000)


@pytest.mark.parametrize("bad", ["", "abc", "1.2", "x.y.z", "100.@@@.sig", "100..sig"])
def test_oca_token_malformed(bad: str) -> None:
    with pytest.raises(TokenError):
        verify_oca_token(SECRET, bad, "m1", now=0)


def test_oca_token_tampered_expiry_or_device() -> None:
    token = sign_oca_token(SECRET, "m1", "device-1", 2000)
    exp, dev, sig = token.split(".")
    with pytest.raises(TokenError, match="forged"):
        verify_oca_token(SECRET, f"9999.{dev}.{sig}", "m1", now=0)
    other = sign_oca_token(SECRET, "m1", "device-2", 2000).split(".")[1]
    with pytest.raises(TokenError, match="forged"):
        verify_oca_token(SECRET, f"{exp}.{other}.{sig}", "m1", now=0)


def test_access_token() -> None:
    token = sign_access_token(SECRET, "acc1", "dev1", 500)
    assert verify_access_token(SECRET, token, 499).account_id == "acc1"
    with pytest.raises(TokenError, match="expired"):
        verify_access_token(SECRET, token, 500)
    with pytest.raises(TokenError, match="forged"):
        verify_access_token(SECRET, token.replace("acc1", "acc2"), 0)


def test_passwords() -> None:
    stored = hash_password("marquee")
    assert stored.startswith("scrypt$")
    assert verify_password("marquee", stored)
    assert not verify_password("marquee ", stored)
    assert not verify_password("marquee", "garbage")
    assert hash_password("marquee") != stored  # salted
