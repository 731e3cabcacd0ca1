"""item_size and write_units against the developer guide's rules, worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.write_units import item_size, number_size, typed_item_size, write_units


def test_each_scalar_type_is_its_name_plus_its_value():
    assert item_size({"name": {"S": "abc"}}) == 4 + 3
    assert item_size({"n": {"N": "12345"}}) == 1 + 3 + 1  # 5 digits: 3 bytes, + 1
    assert item_size({"b": {"B": b"\x00\x01\x02\x03"}}) == 1 + 4  # raw bytes, not base64
    assert item_size({"b": {"B": "AAECAw=="}}) == 1 + 4  # the wire's base64 form, decoded
    assert item_size({"flag": {"BOOL": False}}) == 4 + 1
    assert item_size({"none": {"NULL": True}}) == 4 + 1
    assert item_size({"s": {"S": ""}}) == 1


def test_names_and_strings_count_utf8_bytes_not_characters():
    assert item_size({"é": {"S": "日本"}}) == 2 + 6
    assert item_size({"k": {"S": "😀"}}) == 1 + 4


@pytest.mark.parametrize(
    ("number", "size"),
    [
        ("0", 1),  # no significant digit
        ("7", 2),
        ("-7", 2),  # the sign is not a digit
        ("10", 2),  # trailing zero trimmed
        ("0.001", 2),  # leading zeroes trimmed
        ("1.5", 2),
        ("123", 3),
        ("-123.45", 4),
        ("1E+30", 2),
        ("9" * 38, 20),
        ("-0." + "1" * 38, 20),
        ("1" + "0" * 100, 2),  # 1e100: one significant digit
    ],
)
def test_numbers_count_one_byte_per_two_significant_digits_plus_one(number, size):
    assert number_size(number) == size


@pytest.mark.parametrize("number", ["1" * 39, "abc", "NaN", "Infinity", ""])
def test_what_dynamodb_rejects_as_a_number_is_a_clear_error(number):
    with pytest.raises(ValueError, match="DynamoDB"):
        item_size({"n": {"N": number}})


def test_sets_are_the_sum_of_their_elements():
    assert item_size({"ss": {"SS": ["a", "bc", "é"]}}) == 2 + 1 + 2 + 2
    assert item_size({"ns": {"NS": ["1", "123", "0.5"]}}) == 2 + 2 + 3 + 2
    assert item_size({"bs": {"BS": [b"\x01", b"\x02\x03"]}}) == 2 + 1 + 2


def test_lists_and_maps_cost_three_bytes_plus_one_per_element():
    assert item_size({"l": {"L": []}}) == 1 + 3
    assert item_size({"m": {"M": {}}}) == 1 + 3
    assert item_size({"l": {"L": [{"S": "ab"}, {"N": "1"}]}}) == 1 + 3 + (1 + 2) + (1 + 2)
    assert item_size({"m": {"M": {"k": {"S": "ab"}, "flag": {"BOOL": True}}}}) == (
        1 + 3 + (1 + 1 + 2) + (1 + 4 + 1)
    )


def test_nested_maps_and_lists_add_their_overhead_at_every_level():
    nested = {"M": {"inner": {"L": [{"M": {}}, {"L": [{"NULL": True}]}]}}}
    inner_list = 3 + (1 + 3) + (1 + 3 + (1 + 1))
    assert item_size({"x": nested}) == 1 + 3 + (1 + 5 + inner_list)


def test_an_item_like_the_rooms_connection_record():
    item = {
        "PK": {"S": "CONN#abc="},
        "SK": {"S": "CONN"},
        "userId": {"S": "u" * 36},
        "tokenExpiresAt": {"N": "1764547200"},
    }
    # 1764547200: trailing zeroes trimmed, 8 significant digits: 4 bytes + 1
    assert item_size(item) == (2 + 9) + (2 + 4) + (6 + 36) + (14 + 5)


def test_the_resource_form_sizes_like_the_low_level_form():
    typed = {"s": "日本", "n": Decimal("-123.45"), "b": b"\x01", "ok": True, "z": None, "ss": {"a", "b"}}
    typed |= {"l": [Decimal(1), "x"], "m": {"k": "v"}}
    low_level = {
        "s": {"S": "日本"},
        "n": {"N": "-123.45"},
        "b": {"B": b"\x01"},
        "ok": {"BOOL": True},
        "z": {"NULL": True},
        "ss": {"SS": ["a", "b"]},
        "l": {"L": [{"N": "1"}, {"S": "x"}]},
        "m": {"M": {"k": {"S": "v"}}},
    }
    assert typed_item_size(typed) == item_size(low_level) == 7 + 5 + 2 + 3 + 2 + 4 + (1 + 3 + 3 + 2) + 7


def test_an_unknown_type_descriptor_is_a_clear_error():
    with pytest.raises(ValueError, match="type descriptor"):
        item_size({"x": {"Q": "1"}})
    with pytest.raises(ValueError, match="exactly one"):
        item_size({"x": {"S": "1", "N": "1"}})


def sized(total: int) -> dict:
    """An item of exactly `total` bytes: name "s" (1 byte) + a string of total - 1 bytes."""
    return {"s": {"S": "x" * (total - 1)}}


@pytest.mark.parametrize(("size", "units"), [(1, 1), (1023, 1), (1024, 1), (1025, 2), (2048, 2), (2049, 3)])
def test_a_write_costs_one_unit_per_started_kilobyte(size, units):
    assert item_size(sized(size)) == size
    assert write_units(None, sized(size)) == units
    assert write_units(sized(size), None) == units  # a delete: the old image


def test_a_write_costs_the_larger_image_and_at_least_one_unit():
    assert write_units(sized(3000), sized(10)) == 3
    assert write_units(sized(10), sized(3000)) == 3
    assert write_units(None, None) == 1  # e.g. a failed conditional write on a missing item
    assert write_units({}, {}) == 1


def test_the_guides_worked_examples_of_write_units():
    # "put or delete an item of 1.6 KB, DynamoDB rounds the item size up to 2 KB"
    assert write_units(None, sized(int(1.6 * 1024))) == 2
    # "the items are 512 bytes in size ... each write requires one provisioned write capacity unit"
    assert write_units(None, sized(512)) == 1
    # BatchWriteItem of a 500-byte and a 3.5 KB item: "5 KB (1 KB + 4 KB), not 4 KB"
    assert write_units(None, sized(500)) + write_units(None, sized(3584)) == 5
    # A transaction writing three 500-byte items: "you would need to provision six WCUs"
    assert sum(write_units(None, sized(500), transactional=True) for _ in range(3)) == 6


def test_a_transactional_write_counts_twice():
    assert write_units(None, sized(1024), transactional=True) == 2
    assert write_units(sized(1025), sized(10), transactional=True) == 4
    assert write_units(None, None, transactional=True) == 2


names = st.text(min_size=1, max_size=8)
scalars = st.one_of(
    st.text(max_size=20).map(lambda s: {"S": s}),
    st.integers(-(10**30), 10**30).map(lambda n: {"N": str(n)}),
    st.binary(max_size=20).map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: {"L": items}),
        st.dictionaries(names, inner, max_size=4).map(lambda items: {"M": items}),
    ),
    max_leaves=12,
)
items = st.dictionaries(names, values, max_size=6)


@given(items, items)
def test_size_is_additive_over_attributes(first, second):
    second = {name: value for name, value in second.items() if name not in first}
    assert item_size(first | second) == item_size(first) + item_size(second)


@given(names, values)
def test_wrapping_a_value_in_a_list_or_a_map_adds_exactly_the_documented_overhead(name, value):
    alone = item_size({name: value})
    assert item_size({name: {"L": [value]}}) == alone + 3 + 1
    assert item_size({name: {"M": {"k": value}}}) == alone + 3 + 1 + 1


@given(items, items, st.booleans())
def test_units_depend_only_on_the_larger_image(old, new, transactional):
    larger = max(old, new, key=item_size)
    assert write_units(old, new, transactional=transactional) == write_units(
        larger, None, transactional=transactional
    )
    assert write_units(old, new, transactional=transactional) * 1024 >= item_size(larger)
