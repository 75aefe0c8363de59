"""Forms of the upload pages; the column mapping form is built per file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectChoice, SelectField

from app.ingest.rows import Field

# What each field means to the creditor, in the order the mapping page asks for them.
FIELD_LABELS = {
    Field.REFERENCE: _l("Invoice number"),
    Field.NAME: _l("Debtor's name"),
    Field.LAST_NAME: _l("Debtor's last name, when it has a column of its own"),
    Field.AMOUNT: _l("Invoice amount"),
    Field.LINE_AMOUNT: _l("Line amount (one row per invoice line)"),
    Field.OUTSTANDING: _l("Balance due"),
    Field.CURRENCY: _l("Currency"),
    Field.ISSUED_ON: _l("Invoice date"),
    Field.DUE_ON: _l("Due date"),
    Field.CUSTOMER_NUMBER: _l("Customer number"),
    Field.MOBILE: _l("Mobile number"),
    Field.PHONE: _l("Phone number"),
    Field.EMAIL: _l("E-mail address"),
    Field.BIRTH_DATE: _l("Date of birth"),
    Field.POSTCODE: _l("Postcode"),
    Field.COUNTRY: _l("Country"),
    Field.DESCRIPTION: _l("Description"),
    Field.KIND: _l("Document type (invoice or credit note)"),
    Field.CREDITED_REFERENCE: _l("Credited invoice number"),
}
REQUIRED_FIELDS = (Field.REFERENCE, Field.NAME)


class UploadForm(FlaskForm):
    # Only for agency staff, who upload on a creditor's behalf; removed for creditor users.
    creditor = SelectField(_l("Creditor"), coerce=int)
    file = FileField(
        _l("Invoice file"),
        validators=[FileRequired(_l("Choose a file to upload."))],
        render_kw={"accept": ".csv,.tsv,.txt,.xlsx,.xml"},
    )


class ActionForm(FlaskForm):
    """Confirm or cancel: nothing but the CSRF token."""


class MappingForm(FlaskForm):
    """One select per field, each listing the file's columns; fields are added per file."""


def mapping_form(
    headers: Sequence[str], current: Mapping[Field, str], formdata: object = None
) -> MappingForm:
    class FileMappingForm(MappingForm):
        pass

    choices = [SelectChoice("", _l("— not in the file —"))]
    choices += [SelectChoice(header, header) for header in _distinct(headers)]
    for field, label in FIELD_LABELS.items():
        select = SelectField(label, choices=choices, default=current.get(field, ""))
        setattr(FileMappingForm, field.value, select)
    return FileMappingForm() if formdata is None else FileMappingForm(formdata)


def _distinct(headers: Sequence[str]) -> list[str]:
    """The headers worth offering: named, and each once."""
    seen: set[str] = set()
    found = []
    for header in headers:
        key = header.strip().casefold()
        if key and key not in seen:
            seen.add(key)
            found.append(header)
    return found
