"""Personal data: GB 11643 ID numbers, phones, masking, encryption and the blind index (shared/pii.py)."""

import base64
import os
import stat
from datetime import date

import pytest
from cryptography.exceptions import InvalidTag
from pydantic import TypeAdapter, ValidationError

from shared.pii import (
    InvalidIdNumber,
    PiiCipher,
    birth_date_of,
    check_character,
    gender_of,
    load_cipher,
    mask_id_number,
    mask_phone,
    normalize_id_number,
    normalize_phone,
)
from shared.schemas.common import IdNumber, Phone, RegionCode

PUBLIC_EXAMPLES = ["11010519491231002X", "34052419800101001X", "370101190102039973"]


def with_check(first17: str) -> str:
    """A number whose check character is right, so only the part under test is wrong."""
    return first17 + check_character(first17)


def reason_of(number: str, today: date | None = None) -> str:
    with pytest.raises(InvalidIdNumber) as caught:
        normalize_id_number(number, today=today)
    return caught.value.reason


# --- the GB 11643 checksum ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", PUBLIC_EXAMPLES)
def test_public_examples_are_valid(number):
    assert normalize_id_number(number) == number
    assert check_character(number[:17]) == number[17]


def test_lower_case_x_is_accepted_and_upper_cased():
    assert normalize_id_number("11010519491231002x") == "11010519491231002X"
    assert normalize_id_number("34052419800101001x") == "34052419800101001X"


def test_surrounding_whitespace_is_dropped():
    assert normalize_id_number("  370101190102039973\n") == "370101190102039973"


def test_check_character_ten_is_written_x():
    assert check_character("11010519491231002") == "X"
    assert check_character("37010119010203997") == "3"


@pytest.mark.parametrize(
    "number",
    ["110105194912310021", "110105194912310020", "340524198001010011", "370101190102039972", "37010119010203997X"],
)
def test_wrong_check_character_is_refused(number):
    assert reason_of(number) == "checksum"


def test_a_check_character_other_than_x_is_a_shape_error():
    assert reason_of("11010519491231002Y") == "shape"


@pytest.mark.parametrize(
    "number",
    [
        "",
        "1101051949123100",  # 16 characters
        "11010519491231002",  # 17: the check character is missing
        "11010519491231002X0",  # 19
        "110105491231002",  # the old 15-digit form
    ],
)
def test_wrong_length_is_a_shape_error(number):
    assert reason_of(number) == "shape"


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231O02X",  # letter O for zero
        "1101051949123100XX",  # X anywhere but last
        "11010519491231-02X",
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits
        "X1010519491231002X",
    ],
)
def test_non_digits_are_a_shape_error(number):
    assert reason_of(number) == "shape"


@pytest.mark.parametrize(
    "first17", ["99023019800101123", "00023019800101123", "60010119800101123", "10010119800101123"]
)
def test_unknown_province_prefix_is_refused(first17):
    assert reason_of(with_check(first17)) == "province"


@pytest.mark.parametrize(
    "birth",
    ["20010230", "19800230", "19801301", "19800100", "19800132", "19000229", "18790101", "00000101"],
)
def test_impossible_birth_date_is_refused(birth):
    assert reason_of(with_check(f"500230{birth}123")) == "birth_date"


def test_leap_day_in_a_leap_year_is_a_real_birth_date():
    number = with_check("50023020000229123")
    assert normalize_id_number(number) == number
    assert birth_date_of(number) == date(2000, 2, 29)


def test_future_birth_date_is_refused():
    assert reason_of(with_check("50023020990101123")) == "birth_date"
    today = date(2020, 2, 9)
    assert reason_of(with_check("50023020200210123"), today=today) == "birth_date"
    born_today = with_check("50023020200209123")
    assert normalize_id_number(born_today, today=today) == born_today


def test_invalid_id_number_is_a_value_error_carrying_its_reason():
    with pytest.raises(ValueError, match="checksum"):
        normalize_id_number("110105194912310021")


def test_gender_and_birth_date_are_read_from_the_number():
    assert gender_of("11010519491231002X") == "female"
    assert gender_of("34052419800101001X") == "male"
    assert gender_of("370101190102039973") == "male"
    assert birth_date_of("11010519491231002X") == date(1949, 12, 31)
    assert birth_date_of("370101190102039973") == date(1901, 2, 3)


# --- the contract types: each refusal has a code and a reason in both languages -----------------------------------


@pytest.mark.parametrize(
    ("number", "reason", "reason_zh"),
    [
        ("110105194912310021", "checksum", "校验码错误"),
        ("1101051949123100", "shape", "应为17位数字加1位校验码"),
        (with_check("99023019800101123"), "province", "地址码的省份代码不存在"),
        (with_check("50023019800230123"), "birth_date", "出生日期无效"),
    ],
)
def test_id_number_type_reports_code_and_reason(number, reason, reason_zh):
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(IdNumber).validate_python(number)
    [error] = caught.value.errors()
    assert error["type"] == "id_number_invalid"
    assert error["ctx"] == {"reason": reason, "reason_zh": reason_zh}
    assert error["msg"] == f"invalid resident ID number: {reason}"


def test_id_number_type_upper_cases():
    assert TypeAdapter(IdNumber).validate_python("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize("code", ["500000", "500230101", "500230101201"])
def test_region_code_type_takes_6_9_or_12_digits(code):
    assert TypeAdapter(RegionCode).validate_python(code) == code


@pytest.mark.parametrize(
    "code", ["5002", "5002301", "5002301012", "50023010120", "5002301012011", "50023a", "wansheng"]
)
def test_region_code_type_refuses_other_lengths(code):
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(RegionCode).validate_python(code)
    assert caught.value.errors()[0]["type"] == "region_code_invalid"


# --- phones --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("13812341234", "13812341234"),
        ("+86 138 1234 1234", "13812341234"),
        ("+8619912341234", "19912341234"),
        ("023-12345678", "023-12345678"),
        ("(023)12345678", "02312345678"),
    ],
)
def test_phone_is_normalized(raw, normal):
    assert normalize_phone(raw) == normal
    assert TypeAdapter(Phone).validate_python(raw) == normal


@pytest.mark.parametrize("raw", ["12345", "12812341234", "1381234123", "138123412345", "abc", "+1 415 555 0100"])
def test_bad_phone_is_refused(raw):
    with pytest.raises(ValueError):
        normalize_phone(raw)
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(Phone).validate_python(raw)
    assert caught.value.errors()[0]["type"] == "phone_invalid"


# --- masking -------------------------------------------------------------------------------------------------------


def test_id_number_mask_keeps_address_code_and_last_four():
    assert mask_id_number("50010119900101123X") == "500101********123X"
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert len(mask_id_number("370101190102039973")) == 18


def test_phone_mask_keeps_first_three_and_last_four():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("023-12345678") == "023*****5678"
    assert mask_phone("1234567") == "*******"
    assert mask_phone("12345") == "*****"


# --- encryption and blind index ------------------------------------------------------------------------------------


@pytest.fixture
def cipher() -> PiiCipher:
    return PiiCipher(os.urandom(32), os.urandom(32))


def test_encrypt_decrypt_round_trip(cipher):
    for value in ["11010519491231002X", "13812341234", "张秀华 重庆市丰都县虎威镇", ""]:
        token = cipher.encrypt(value)
        assert value not in token or value == ""
        assert cipher.decrypt(token) == value


def test_each_encryption_uses_a_fresh_nonce(cipher):
    first, second = cipher.encrypt("11010519491231002X"), cipher.encrypt("11010519491231002X")
    assert first != second
    assert base64.b64decode(first)[:12] != base64.b64decode(second)[:12]
    assert cipher.decrypt(first) == cipher.decrypt(second) == "11010519491231002X"


def test_encrypt_many_gives_each_value_its_own_nonce(cipher):
    values = ["11010519491231002X", "11010519491231002X", "13812341234", ""]
    tokens = cipher.encrypt_many(values)
    assert [cipher.decrypt(t) for t in tokens] == values
    assert len({base64.b64decode(t)[:12] for t in tokens}) == len(values)
    assert cipher.encrypt_many([]) == []


def test_tampered_ciphertext_is_rejected(cipher):
    raw = bytearray(base64.b64decode(cipher.encrypt("13812341234")))
    raw[-1] ^= 0x01
    with pytest.raises(InvalidTag):
        cipher.decrypt(base64.b64encode(bytes(raw)).decode())


def test_another_encryption_key_cannot_decrypt(cipher):
    other = PiiCipher(os.urandom(32), os.urandom(32))
    with pytest.raises(InvalidTag):
        other.decrypt(cipher.encrypt("13812341234"))


def test_blind_index_is_deterministic(cipher):
    index = cipher.blind_index("11010519491231002X")
    assert index == cipher.blind_index("11010519491231002X")
    assert len(index) == 64
    int(index, 16)
    assert index != cipher.blind_index("34052419800101001X")


def test_blind_index_is_keyed():
    index_key = os.urandom(32)
    same_index_key = PiiCipher(os.urandom(32), index_key)
    also_same = PiiCipher(os.urandom(32), index_key)
    other_index_key = PiiCipher(os.urandom(32), os.urandom(32))
    value = "11010519491231002X"
    assert same_index_key.blind_index(value) == also_same.blind_index(value)
    assert same_index_key.blind_index(value) != other_index_key.blind_index(value)


def test_blind_index_is_hmac_sha256_of_the_index_key():
    # stored indexes must keep matching: the precomputed pads are RFC 2104's HMAC, byte for byte
    import hashlib
    import hmac

    index_key = os.urandom(32)
    for value in ["11010519491231002X", "", "张秀华"]:
        expected = hmac.new(index_key, value.encode(), hashlib.sha256).hexdigest()
        assert PiiCipher(os.urandom(32), index_key).blind_index(value) == expected


def test_blind_index_is_not_a_plain_hash(cipher):
    import hashlib

    value = "11010519491231002X"
    assert cipher.blind_index(value) != hashlib.sha256(value.encode()).hexdigest()


@pytest.mark.parametrize(("enc", "idx"), [(16, 32), (32, 16), (0, 32), (33, 32)])
def test_keys_must_be_32_bytes(enc, idx):
    with pytest.raises(ValueError, match="32 bytes"):
        PiiCipher(os.urandom(enc), os.urandom(idx))


def test_load_cipher_uses_configured_keys(tmp_path):
    enc, idx = os.urandom(32), os.urandom(32)
    configured = load_cipher(base64.b64encode(enc).decode(), base64.b64encode(idx).decode(), tmp_path)
    direct = PiiCipher(enc, idx)
    assert direct.decrypt(configured.encrypt("13812341234")) == "13812341234"
    assert configured.blind_index("x") == direct.blind_index("x")
    assert not (tmp_path / "keys").exists()


def test_load_cipher_generates_keys_once_and_keeps_them_private(tmp_path):
    first = load_cipher("", "", tmp_path)
    second = load_cipher("", "", tmp_path)
    assert second.decrypt(first.encrypt("11010519491231002X")) == "11010519491231002X"
    assert first.blind_index("11010519491231002X") == second.blind_index("11010519491231002X")
    for name in ("pii_encryption.key", "pii_index.key"):
        path = tmp_path / "keys" / name
        assert len(base64.b64decode(path.read_text())) == 32
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (tmp_path / "keys" / "pii_encryption.key").read_text() != (tmp_path / "keys" / "pii_index.key").read_text()
