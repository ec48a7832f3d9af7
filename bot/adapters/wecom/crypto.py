"""WeCom's callback crypto: the SHA1 signature, checked in constant time, and the AES
envelope, through PyCA `cryptography` (see the adapter's docstring for why not wechatpy's).

WeCom signs each callback with SHA1 over the sorted concatenation of the Token, the
timestamp, the nonce and the ciphertext; the ciphertext is AES-256-CBC (key: the
EncodingAESKey decoded, IV: the key's first 16 bytes) of 16 random bytes, the message's
length as 4 bytes big-endian, the message and the corp id, PKCS#7-padded to 32-byte
blocks. Everything here raises `CryptoError` and nothing else on bad input, so the edge
can answer any forgery or junk with one 4xx.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK_BITS = 256  # WeCom pads to 32-byte blocks, not AES's 16
RANDOM_BYTES = 16
KEY_CHARS = 43


class CryptoError(ValueError):
    """A callback that is not WeCom's: a wrong signature, a ciphertext that does not
    decrypt, or one encrypted for another corp."""


def decode_key(encoding_aes_key: str) -> bytes:
    """The AES key of an EncodingAESKey (43 characters of base64, without its "=")."""
    if len(encoding_aes_key) != KEY_CHARS:
        raise CryptoError(f"the EncodingAESKey has {len(encoding_aes_key)} characters, not 43")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("the EncodingAESKey is not base64") from None
    if len(key) != 32:
        raise CryptoError("the EncodingAESKey does not decode to 32 bytes")
    return key


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    parts = sorted([token, timestamp, nonce, encrypted])
    return hashlib.sha1("".join(parts).encode()).hexdigest()


class CallbackCrypto:
    def __init__(self, token: str, encoding_aes_key: str, corp_id: str) -> None:
        self.token = token
        self.key = decode_key(encoding_aes_key)
        self.corp_id = corp_id.encode()

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def verify(self, given: str, timestamp: str, nonce: str, encrypted: str) -> None:
        expected = signature(self.token, timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise CryptoError("wrong msg_signature")

    def decrypt(self, encrypted: str) -> bytes:
        """The message inside, once its signature is verified; its corp id must be ours."""
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise CryptoError("the ciphertext is not base64") from None
        if not raw or len(raw) % 16:
            raise CryptoError("the ciphertext is not whole AES blocks")
        decryptor = self._cipher().decryptor()
        padded = decryptor.update(raw) + decryptor.finalize()
        unpadder = padding.PKCS7(BLOCK_BITS).unpadder()
        try:
            plain = unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            raise CryptoError("the ciphertext's padding is wrong") from None
        if len(plain) < RANDOM_BYTES + 4:
            raise CryptoError("the plaintext is too short")
        (length,) = struct.unpack(">I", plain[RANDOM_BYTES : RANDOM_BYTES + 4])
        body = plain[RANDOM_BYTES + 4 :]
        if length > len(body):
            raise CryptoError("the plaintext's length field is wrong")
        message, receiver = body[:length], body[length:]
        if not hmac.compare_digest(receiver, self.corp_id):
            raise CryptoError("encrypted for another corp id")
        return message

    def encrypt(self, message: bytes, nonce: str, timestamp: str) -> tuple[str, str]:
        """A passive reply's ciphertext and its signature, as WeCom expects them. The bot
        answers callbacks with an empty body today (it replies through `message/send`);
        this is kept so both directions of the envelope are checked against wechatpy."""
        plain = os.urandom(RANDOM_BYTES) + struct.pack(">I", len(message)) + message
        padder = padding.PKCS7(BLOCK_BITS).padder()
        padded = padder.update(plain + self.corp_id) + padder.finalize()
        encryptor = self._cipher().encryptor()
        encrypted = base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()
        return encrypted, signature(self.token, timestamp, nonce, encrypted)
