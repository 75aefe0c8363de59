"""UBL 2.x Invoice and CreditNote documents (PEPPOL BIS 3, OIOUBL), with no DTD."""

from __future__ import annotations

from decimal import Decimal
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import parse

from app.ingest.errors import BadValue, FileRejected
from app.ingest.reasons import Code, Reason
from app.ingest.rows import Field, Kind, Record
from app.ingest.values import RawValue, parse_xsd_decimal

UBL = "urn:oasis:names:specification:ubl:schema:xsd"
NS = {
    "cac": f"{UBL}:CommonAggregateComponents-2",
    "cbc": f"{UBL}:CommonBasicComponents-2",
}
ROOTS = {
    f"{{{UBL}:Invoice-2}}Invoice": Kind.INVOICE,
    f"{{{UBL}:CreditNote-2}}CreditNote": Kind.CREDIT_NOTE,
}
SBD = (
    "{http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader}"
    "StandardBusinessDocument"
)
CUSTOMER = "cac:AccountingCustomerParty"
PARTY = f"{CUSTOMER}/cac:Party"
# Where each field is found, the preferred path first.
PATHS: dict[Field, tuple[str, ...]] = {
    Field.REFERENCE: ("cbc:ID",),
    Field.ISSUED_ON: ("cbc:IssueDate",),
    Field.DUE_ON: (
        "cbc:DueDate",
        "cac:PaymentMeans/cbc:PaymentDueDate",
        "cac:PaymentTerms/cbc:PaymentDueDate",
    ),
    Field.CURRENCY: ("cbc:DocumentCurrencyCode",),
    Field.CREDITED_REFERENCE: (
        "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID",
    ),
    Field.CUSTOMER_NUMBER: (
        f"{CUSTOMER}/cbc:SupplierAssignedAccountID",
        f"{PARTY}/cac:PartyIdentification/cbc:ID",
        f"{CUSTOMER}/cbc:CustomerAssignedAccountID",
    ),
    Field.NAME: (
        f"{PARTY}/cac:PartyLegalEntity/cbc:RegistrationName",
        f"{PARTY}/cac:PartyName/cbc:Name",
    ),
    Field.PHONE: (f"{PARTY}/cac:Contact/cbc:Telephone",),
    Field.EMAIL: (f"{PARTY}/cac:Contact/cbc:ElectronicMail",),
    Field.POSTCODE: (f"{PARTY}/cac:PostalAddress/cbc:PostalZone",),
    Field.COUNTRY: (f"{PARTY}/cac:PostalAddress/cac:Country/cbc:IdentificationCode",),
}
PAYABLE = "cac:LegalMonetaryTotal/cbc:PayableAmount"
PREPAID = "cac:LegalMonetaryTotal/cbc:PrepaidAmount"


def read_ubl_record(stream: BinaryIO) -> Record:
    """The document's values as one record; no DTD, entity or external file is read.

    :raises FileRejected: not well-formed, declares a DTD, or is not a UBL invoice.
    """
    root = _document(_parse(stream))
    kind = ROOTS.get(root.tag)
    if kind is None:
        raise FileRejected(Reason.of(Code.XML_NOT_UBL))
    found: dict[Field, RawValue] = {Field.KIND: kind.value}
    for field, paths in PATHS.items():
        text = next((t for path in paths if (t := _text(root, path))), None)
        if text is not None:
            found[field] = text
    found |= _amounts(root, kind, found.get(Field.CURRENCY))
    found[Field.DESCRIPTION] = "; ".join(dict.fromkeys(_item_names(root)))
    return Record(rows=(), lines=(found,))


def _parse(stream: BinaryIO) -> Element:
    try:
        # A UBL document never needs a DTD; refusing any DOCTYPE stops entity expansion
        # bombs and external entities before the parser resolves anything.
        root: Element = parse(stream, forbid_dtd=True).getroot()
    except DefusedXmlException as error:
        raise FileRejected(Reason.of(Code.XML_UNSAFE)) from error
    except ParseError as error:
        raise FileRejected(Reason.of(Code.XML_MALFORMED, error=str(error))) from error
    return root


def _document(root: Element) -> Element:
    """The invoice itself, also when a PEPPOL access point wrapped it in a Standard
    Business Document (EHF files often arrive so)."""
    if root.tag != SBD:
        return root
    return next((child for child in root if child.tag in ROOTS), root)


def _text(root: Element, path: str) -> str | None:
    text = root.findtext(path, namespaces=NS)
    return text.strip() if text and text.strip() else None


def _amounts(
    root: Element, kind: Kind, currency: RawValue | None
) -> dict[Field, RawValue]:
    payable = _amount(root, PAYABLE, currency)
    if payable is None:
        return {}
    total = payable + (_amount(root, PREPAID, currency) or 0)
    if kind is Kind.CREDIT_NOTE:
        return {Field.AMOUNT: total}
    return {Field.AMOUNT: total, Field.OUTSTANDING: payable}


def _amount(root: Element, path: str, currency: RawValue | None) -> Decimal | None:
    element = root.find(path, NS)
    if element is None or not (element.text or "").strip():
        return None
    stated = element.get("currencyID", "").strip().upper()
    if currency is not None and stated and stated != str(currency).strip().upper():
        raise FileRejected(
            Reason.of(Code.XML_CURRENCY_MISMATCH, stated=stated, currency=str(currency))
        )
    try:
        return parse_xsd_decimal(element.text or "")
    except BadValue as error:
        raise FileRejected(error.reason) from error


def _item_names(root: Element) -> list[str]:
    names = (element.text for element in root.iterfind(".//cac:Item/cbc:Name", NS))
    return [" ".join(name.split()) for name in names if name and name.strip()]
