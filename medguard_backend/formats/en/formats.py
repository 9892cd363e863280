"""South African English formats (the *_FORMAT strings use Django's date format syntax).

Month and day names come from the active language's catalogue, so the same strings serve
Afrikaans (see ``formats/af/formats.py``).
"""

DATE_FORMAT = "j F Y"  # 28 November 2026
TIME_FORMAT = "H:i"  # 08:00, 20:30
DATETIME_FORMAT = "j F Y H:i"  # 28 November 2026 08:00
YEAR_MONTH_FORMAT = "F Y"  # November 2026
MONTH_DAY_FORMAT = "j F"  # 28 November
SHORT_DATE_FORMAT = "Y/m/d"  # 2026/11/28, the SANS 8601 all-numeric form
SHORT_DATETIME_FORMAT = "Y/m/d H:i"
FIRST_DAY_OF_WEEK = 1  # Monday

# Parsing, most specific first. Only day-first or year-first numeric forms: a South African
# reading "03/04/2026" means 3 April, so the American month-first forms are left out.
DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # 2026-11-28
    "%Y/%m/%d",  # 2026/11/28
    "%d/%m/%Y",  # 28/11/2026
    "%d-%m-%Y",  # 28-11-2026
    "%d %B %Y",  # 28 November 2026
    "%d %b %Y",  # 28 Nov 2026
]
TIME_INPUT_FORMATS = [
    "%H:%M:%S",  # 14:30:59
    "%H:%M:%S.%f",  # 14:30:59.000200
    "%H:%M",  # 14:30
]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
]

DECIMAL_SEPARATOR = "."
# A (non-breaking) space groups thousands in South Africa whichever decimal mark is used,
# so "1 000" is never misread as one point zero.
THOUSAND_SEPARATOR = "\xa0"
NUMBER_GROUPING = 3
