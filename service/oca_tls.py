"""A self-signed certificate for the OCAs' ``https://`` URLs (``marquee serve --tls``).

Made once per installation (EC P-256, names: loopback and the configured hosts, 10 years) and
kept beside the database: the key 0600, the certificate public. The app's HTTP clients pin it
(``marquee/tls.py`` trusts exactly this certificate for these names), so no CA is involved.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from marquee.private_files import write_private
from marquee.tls import PINNED_CERT_FILE

KEY_FILE = "oca-key.pem"


def ensure_certificate(folder: Path, hosts: tuple[str, ...]) -> tuple[Path, Path]:
    """(certificate, key) files in ``folder``, made when missing or not covering ``hosts``."""
    cert_path, key_path = folder / PINNED_CERT_FILE, folder / KEY_FILE
    names = sorted({"127.0.0.1", "::1", "localhost", *(h for h in hosts if h not in ("", "0.0.0.0", "::"))})
    if cert_path.exists() and key_path.exists() and _covers(cert_path, names):
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Marquee OCA (this installation)")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))
    write_private(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
    write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _covers(cert_path: Path, names: list[str]) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return False
    have = {str(v) for v in san.get_values_for_type(x509.IPAddress)} | set(san.get_values_for_type(x509.DNSName))
    return set(names) <= have
