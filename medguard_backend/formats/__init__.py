"""South African date, time and number formats, found through ``FORMAT_MODULE_PATH``.

Django's own ``en`` formats are American (12-hour clock, "Nov. 28, 2026") and it ships none
for ``af``; South Africans read a 24-hour clock and "28 November 2026" in both languages.
"""
