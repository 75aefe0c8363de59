"""Column headers: synonyms (English, Danish, Norwegian), fingerprints, mappings."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from app.errors import ValidationFailed
from app.ingest.errors import FileRejected
from app.ingest.reasons import Code, Reason
from app.ingest.rows import Cells, Field, RowError
from app.ingest.values import RawValue, as_text

MAX_COLUMNS = 1000
HEADER_SEARCH_ROWS = 20  # title and blank rows a report may put above its header
AMOUNT_FIELDS = (Field.AMOUNT, Field.LINE_AMOUNT, Field.OUTSTANDING)
FINGERPRINT_VERSION = "v1"

# Normalised header texts (see normalise_header), the preferred one first. A header text
# appears under one field only, so one column never feeds two fields.
SYNONYMS: dict[Field, tuple[str, ...]] = {
    Field.REFERENCE: (
        "invoice number", "invoice no", "invoice nr", "invoice", "document number",
        "fakturanummer", "fakturanr", "faktura nummer", "faktura nr", "faktura",
        "bilagsnummer", "bilagsnr", "invoice id", "faktura id", "nummer", "nr", "no",
        "num",
    ),
    Field.KIND: (
        "document type", "invoice type", "type", "dokumenttype", "bilagstype",
        "fakturatype", "transaction type",
    ),
    Field.CREDITED_REFERENCE: (
        "credited invoice", "credited invoice number", "original invoice",
        "original invoice number", "krediteret faktura", "kreditert faktura",
        "krediteret fakturanummer", "kreditert fakturanummer", "original faktura",
    ),
    Field.CUSTOMER_NUMBER: (
        "customer number", "customer no", "customer nr", "customer id", "client number",
        "client id", "kundenummer", "kundenr", "kunde nummer", "kunde nr", "kunde id",
        "debitornummer", "debitornr", "account number", "account no", "a c",
        "customer account",
    ),
    Field.NAME: (
        "customer name", "client name", "debtor name", "name", "full name", "customer",
        "client", "debtor", "company name", "navn", "kundenavn", "kunde navn", "kunde",
        "debitornavn", "debitor", "fulde navn", "fullt navn", "firmanavn",
        "contact name", "contact", "kontaktnavn", "kontakt", "first name", "fornavn",
        "given name",
    ),
    Field.LAST_NAME: (
        "last name", "surname", "family name", "efternavn", "etternavn",
    ),
    Field.MOBILE: (
        "mobile", "mobile number", "mobile phone", "cell", "cell phone", "mobil",
        "mobilnummer", "mobilnr", "mobil nr", "mobiltelefon", "mobile no", "mobil tlf",
        "mobiltlf",
    ),
    Field.PHONE: (
        "phone", "phone number", "telephone", "telephone number", "billing phone",
        "telefon", "telefonnummer", "telefonnr", "tlf", "tlf nr", "tlfnr", "telefon nr",
        "phone no", "tel", "tel no",
    ),
    Field.EMAIL: (
        "email", "e mail", "email address", "e mail address", "email recipient", "mail",
        "email adresse", "e mail adresse", "e post", "epost", "e postadresse",
        "epostadresse",
    ),
    Field.BIRTH_DATE: (
        "birth date", "date of birth", "birthdate", "dob", "fødselsdato", "fodselsdato",
        "født",
    ),
    Field.POSTCODE: (
        "postcode", "post code", "postal code", "zip", "zip code", "zipcode",
        "billing code", "postnummer", "postnr", "post nr",
    ),
    Field.COUNTRY: (
        "country", "country code", "billing country", "land", "landekode", "landkode",
    ),
    Field.DESCRIPTION: (
        "description", "item name", "item description", "subject", "text",
        "beskrivelse", "tekst", "varenavn", "vare", "emne",
    ),
    Field.AMOUNT: (
        "total", "amount", "invoice total", "total amount", "invoice amount", "beløb",
        "beløp", "fakturabeløb", "fakturabeløp", "totalbeløb", "totalbeløp",
        "total beløb", "total beløp", "beløb i alt", "beløp i alt", "i alt", "sum",
    ),
    Field.LINE_AMOUNT: (
        "line total", "item total", "line amount", "linjebeløb", "linjebeløp",
        "linjetotal", "linjesum",
    ),
    Field.OUTSTANDING: (
        "balance due", "balance", "balance due amount", "amount due", "outstanding",
        "outstanding amount", "restbeløb", "restbeløp", "udestående", "utestående",
        "saldo", "open balance", "amount outstanding", "outstanding balance",
        "invoice amount due", "amount owed", "balance owing", "amount remaining",
        "remaining amount", "udestående beløb", "utestående beløp", "åbent beløb",
        "åpent beløp", "resterende beløb", "gjenstående beløp", "skyldig beløb",
        "restsaldo",
    ),
    Field.CURRENCY: ("currency", "currency code", "valuta", "valutakode"),
    Field.ISSUED_ON: (
        "invoice date", "issue date", "date issued", "document date", "date",
        "fakturadato", "dato", "udstedelsesdato", "utstedelsesdato",
    ),
    Field.DUE_ON: (
        "due date", "due", "payment due date", "forfaldsdato", "forfaldsdag",
        "forfallsdato", "forfallsdag", "forfall", "betalingsfrist",
        "sidste rettidige betalingsdag", "forfald", "due on", "payment due",
    ),
}  # fmt: skip
# A sum line's label, normalised (see _unqualified_header): such a row is no invoice.
TOTALS_WORDS = frozenset(
    {
        "total", "totals", "grand total", "sub total", "subtotal", "sum", "sum total",
        "total sum", "totalsum", "totalt", "i alt", "ialt", "sum i alt", "total i alt",
        "samlet", "samlet sum", "samlet beløb", "samlet beløp", "summa",
    }
)  # fmt: skip
FIRST_NAMES = frozenset({"first name", "fornavn", "given name"})
_CAMEL_HUMP = re.compile(r"(?<=[a-zæøå0-9])(?=[A-ZÆØÅ])")
_WORDS = re.compile(r"[^\W_]+")
# What a header adds to say an amount includes VAT or which currency it is in ("Beløb
# inkl. moms", "Beløp (NOK)", "Amount in GBP"). An amount before VAT ("ekskl. moms",
# "excl. VAT") keeps its words, so it is never taken for what the debtor owes.
_CURRENCY_WORDS = r"(?:dkk|nok|sek|eur|gbp|usd|kr|kroner)"
_QUALIFIERS = re.compile(
    r"\b(?:(?:inkl|incl|inc|including|inklusive|inklusiv|med)\s+(?:moms|mva|vat|tax)"
    rf"|(?:i\s+|in\s+)?{_CURRENCY_WORDS})\b"
)


def normalise_header(text: str) -> str:
    """Header text minus case, punctuation, humps: "Invoice #" -> "invoice number"."""
    spaced = _CAMEL_HUMP.sub(
        " ", unicodedata.normalize("NFKC", text.strip("\ufeff \t"))
    )
    return " ".join(_WORDS.findall(spaced.casefold().replace("#", " number ")))


def layout_fingerprint(headers: Sequence[str]) -> str:
    """A stable id of a layout: the same headers in any order, case or punctuation."""
    canonical = "\n".join(sorted(normalise_header(header) for header in headers))
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{FINGERPRINT_VERSION}:{digest[:32]}"


@dataclass(frozen=True)
class ColumnMapping:
    """Which column holds each field; a built-in layout may also keep only some rows."""

    columns: Mapping[Field, str]
    keep_rows_where: tuple[str, str] | None = None  # (header, value)

    @property
    def missing(self) -> tuple[Field, ...]:
        """Required fields that no column holds.

        Any one amount will do: an invoice total, line amounts, or (in a list of open
        items, which often shows only what is still owed) the balance due alone.
        """
        has_amount = any(field in self.columns for field in AMOUNT_FIELDS)
        needed = (Field.REFERENCE, Field.NAME) + (() if has_amount else (Field.AMOUNT,))
        return tuple(field for field in needed if field not in self.columns)

    def to_dict(self) -> dict[str, str]:
        """The mapping as stored for the creditor: field name -> header text."""
        return {field.value: header for field, header in self.columns.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> ColumnMapping:
        """A mapping from its stored form.

        :raises ValidationFailed: a key is not a field name.
        """
        unknown = sorted(set(data) - {field.value for field in Field})
        if unknown:
            raise ValidationFailed(
                "unknown fields in the mapping", {"mapping": unknown}
            )
        return cls({Field(key): header for key, header in data.items()})


@dataclass(frozen=True)
class Layout:
    """A file's headers, their fingerprint and the mapping we suggest for them."""

    headers: tuple[str, ...]
    fingerprint: str
    suggested: ColumnMapping

    @property
    def missing(self) -> tuple[Field, ...]:
        return self.suggested.missing


def describe_layout(headers: Sequence[str]) -> Layout:
    """The layout of a header row, with a known or guessed mapping."""
    return Layout(tuple(headers), layout_fingerprint(headers), guess_mapping(headers))


def guess_mapping(headers: Sequence[str]) -> ColumnMapping:
    """A built-in mapping for a known export, else one column per field by synonym."""
    known = KNOWN_LAYOUTS.get(layout_fingerprint(headers))
    if known is not None:
        return known
    columns = _by_synonym(headers, normalise_header)
    # Then headers that say more than a synonym, for the fields still without a column.
    for field, header in _by_synonym(headers, _unqualified_header).items():
        if field not in columns and header not in columns.values():
            columns[field] = header
    if normalise_header(columns.get(Field.NAME, "")) not in FIRST_NAMES:
        columns.pop(Field.LAST_NAME, None)  # the name column has the whole name
    return ColumnMapping(columns)


def _by_synonym(
    headers: Sequence[str], normalise: Callable[[str], str]
) -> dict[Field, str]:
    """The first header matching one of each field's synonyms, the preferred first."""
    by_text = {normalise(header): header for header in reversed(headers)}
    columns: dict[Field, str] = {}
    for field, synonyms in SYNONYMS.items():
        found = next((by_text[text] for text in synonyms if text in by_text), None)
        if found is not None:
            columns[field] = found
    return columns


def _unqualified_header(text: str) -> str:
    """The normalised header without VAT and currency words: "Beløb inkl. moms"."""
    return " ".join(_QUALIFIERS.sub(" ", normalise_header(text)).split())


def is_full_header(texts: Sequence[str]) -> bool:
    """Whether a row names every required field, so it is surely the header."""
    return any(text.strip() for text in texts) and not guess_mapping(texts).missing


def pick_header(rows: Sequence[Sequence[str]]) -> int | None:
    """Which of a file's first rows is its header; None when they are all blank.

    Reports and hand-made sheets put a title, a date or a blank line above the header.
    The header is the first row naming every required field; else the row naming the
    most fields, when that is at least two and more than the first non-blank row names;
    else the first non-blank row (whose columns the creditor then maps).
    """
    filled = [
        index for index, texts in enumerate(rows) if any(t.strip() for t in texts)
    ]
    if not filled:
        return None
    complete = next((index for index in filled if is_full_header(rows[index])), None)
    if complete is not None:
        return complete
    named = {index: len(guess_mapping(rows[index]).columns) for index in filled}
    best = max(filled, key=lambda index: (named[index], -index))
    return best if named[best] >= 2 and named[best] > named[filled[0]] else filled[0]


def check_headers(headers: Sequence[str]) -> None:
    """Refuse header rows no invoice export has.

    :raises FileRejected: more than MAX_COLUMNS columns.
    """
    if len(headers) > MAX_COLUMNS:
        raise FileRejected(Reason.of(Code.TOO_MANY_COLUMNS, limit=MAX_COLUMNS))


class RowExtractor:
    """Picks the mapped fields out of each row of one file."""

    def __init__(self, mapping: ColumnMapping, headers: Sequence[str]) -> None:
        """:raises FileRejected: a mapped column is not in the file."""
        self.width = len(headers)
        self.columns = {
            field: _index(headers, text) for field, text in mapping.columns.items()
        }
        self.keep: tuple[int, str] | None = None
        if mapping.keep_rows_where is not None:
            column, value = mapping.keep_rows_where
            self.keep = (_index(headers, column), value.casefold())
        self.header = _filled([header.strip() for header in headers])

    def extract(self, cells: Cells) -> dict[Field, RawValue] | RowError | None:
        """The row's values by field, a RowError, or None for a row to skip."""
        row = cells.values
        if not any(_text(value) for value in row) or not self._kept(row):
            return None
        if self._repeats_header(row):
            return None  # reports repeat the header at the top of every page
        if any(_text(value) for value in row[self.width :]):
            reason = Reason.of(
                Code.ROW_WIDER_THAN_HEADER, count=len(row), width=self.width
            )
            return RowError((cells.row,), None, reason)
        found = {
            field: row[index] if index < len(row) else ""
            for field, index in self.columns.items()
        }
        return None if _is_totals_row(found, row) else found

    def _repeats_header(self, row: list[RawValue]) -> bool:
        if not (row and self.header) or _text(row[0]) != self.header[0]:
            return False
        return _filled([_text(value) for value in row]) == self.header

    def _kept(self, row: list[RawValue]) -> bool:
        if self.keep is None:
            return True
        index, value = self.keep
        return index < len(row) and _text(row[index]).casefold() == value


def _is_totals_row(found: Mapping[Field, RawValue], row: list[RawValue]) -> bool:
    """A report's or sheet's sum line ("I alt", "Sum", "Total"): no debtor, no invoice
    number but that word, and the word in one of its cells."""
    reference = _text(found.get(Field.REFERENCE, ""))
    if _text(found.get(Field.NAME, "")) or (
        reference and not _is_totals_word(reference)
    ):
        return False
    return any(_is_totals_word(_text(value)) for value in row)


def _is_totals_word(text: str) -> bool:
    return _unqualified_header(text) in TOTALS_WORDS


def _filled(texts: list[str]) -> list[str]:
    """The texts without the empty ones at the end."""
    while texts and not texts[-1]:
        texts.pop()
    return texts


def _index(headers: Sequence[str], text: str) -> int:
    wanted = normalise_header(text)
    for index, header in enumerate(headers):
        if normalise_header(header) == wanted:
            return index
    raise FileRejected(Reason.of(Code.MAPPED_COLUMN_MISSING, column=repr(text)))


def _text(value: RawValue) -> str:
    return as_text(value).strip()


# Exports whose headers alone do not say enough. Wave lists every ledger line; only
# its Accounts Receivable lines count: invoice totals, and payments (negative) on them.
_WAVE_HEADERS = (
    "Transaction ID", "Transaction Date", "Account Name", "Transaction Description",
    "Transaction Line Description", "Amount (One column)", " ",
    "Debit Amount (Two Column Approach)", "Credit Amount (Two Column Approach)",
    "Other Accounts for this Transaction", "Customer", "Vendor", "Invoice Number",
    "Bill Number", "Notes / Memo", "Amount Before Sales Tax", "Sales Tax Amount",
    "Sales Tax Name", "Transaction Date Added", "Transaction Date Last Modified",
    "Account Group", "Account Type", "Account ID",
)  # fmt: skip
_WAVE = ColumnMapping(
    {
        Field.REFERENCE: "Invoice Number",
        Field.NAME: "Customer",
        Field.LINE_AMOUNT: "Amount (One column)",
        Field.ISSUED_ON: "Transaction Date",
    },
    keep_rows_where=("Account Name", "Accounts Receivable"),
)
# Invoicely puts the invoice number in "Details".
_INVOICELY_HEADERS = ("Date", "Due", "Details", "Client", "Status", "Total")
_INVOICELY = ColumnMapping(
    {
        Field.REFERENCE: "Details",
        Field.NAME: "Client",
        Field.AMOUNT: "Total",
        Field.ISSUED_ON: "Date",
        Field.DUE_ON: "Due",
    }
)
KNOWN_LAYOUTS = {
    layout_fingerprint(_WAVE_HEADERS): _WAVE,
    layout_fingerprint(_INVOICELY_HEADERS): _INVOICELY,
}
