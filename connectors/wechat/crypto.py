"""WeChat's callback security, written from the published protocol (no maintained library fits).

Every callback carries `signature` = SHA-1 of the sorted (token, timestamp, nonce). In safe mode (安全模式)
the body is encrypted: AES-256-CBC with the key Base64_Decode(EncodingAESKey + "="), its first 16 bytes
as the IV, PKCS#7 padding to a multiple of 32 bytes, over random(16) + length(4, network order) + message
+ AppID; `msg_signature` = SHA-1 of the sorted (token, timestamp, nonce, Encrypt). Replies are encrypted
and signed the same way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeChat pads to the key's length, not to AES's 16-byte block


class SignatureError(Exception):
    """A callback whose signature does not match: not from WeChat, or a wrong token."""


class DecryptError(Exception):
    """An encrypted body that does not decrypt to a message for this account."""


def sign(*parts: str) -> str:
    """WeChat's signature: SHA-1 over the parts sorted and joined."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 - WeChat's protocol


def check(expected: str, *parts: str) -> None:
    if not hmac.compare_digest(sign(*parts).encode(), (expected or "").encode()):
        raise SignatureError("signature mismatch")


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key from the 43-character EncodingAESKey."""
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as error:
        raise ValueError("WECHAT_AES_KEY is not a 43-character EncodingAESKey") from error
    if len(encoding_aes_key) != 43 or len(key) != 32:
        raise ValueError("WECHAT_AES_KEY is not a 43-character EncodingAESKey")
    return key


class MessageCrypto:
    """Safe mode's message encryption for one account (token, EncodingAESKey, AppID)."""

    def __init__(self, *, token: str, encoding_aes_key: str, app_id: str) -> None:
        self.token = token
        self.key = aes_key(encoding_aes_key)
        self.app_id = app_id.encode()

    def decrypt(self, encrypted: str, *, msg_signature: str, timestamp: str, nonce: str) -> bytes:
        """The plaintext XML of a signed, encrypted body (SignatureError, DecryptError)."""
        check(msg_signature, self.token, timestamp, nonce, encrypted)
        try:
            data = base64.b64decode(encrypted, validate=True)
        except binascii.Error as error:
            raise DecryptError("not Base64") from error
        if not data or len(data) % 16:
            raise DecryptError("not whole AES blocks")
        decryptor = self._cipher().decryptor()
        padded = decryptor.update(data) + decryptor.finalize()
        plain = _unpad(padded)
        if len(plain) < 20:
            raise DecryptError("too short")
        (length,) = struct.unpack(">I", plain[16:20])
        message, app_id = plain[20 : 20 + length], plain[20 + length :]
        if len(message) != length or not hmac.compare_digest(app_id, self.app_id):
            raise DecryptError("for another account")
        return message

    def encrypt(self, message: bytes, *, timestamp: str, nonce: str) -> tuple[str, str]:
        """The Base64 ciphertext of a reply and its msg_signature."""
        plain = os.urandom(16) + struct.pack(">I", len(message)) + message + self.app_id
        encryptor = self._cipher().encryptor()
        encrypted = base64.b64encode(encryptor.update(_pad(plain)) + encryptor.finalize()).decode()
        return encrypted, sign(self.token, timestamp, nonce, encrypted)

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))


def _pad(data: bytes) -> bytes:
    amount = BLOCK - len(data) % BLOCK
    return data + bytes([amount]) * amount


def _unpad(data: bytes) -> bytes:
    amount = data[-1]
    if not 1 <= amount <= BLOCK or data[-amount:] != bytes([amount]) * amount:
        raise DecryptError("bad padding")
    return data[:-amount]
