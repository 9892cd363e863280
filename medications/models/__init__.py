from .dose import CaregiverLink, Dose, DoseEscalation
from .medicine import Medicine, Supply
from .schedule import EVERY_DAY, SLOT_TIMES, Schedule, weekday_bit

__all__ = [
    "EVERY_DAY",
    "SLOT_TIMES",
    "CaregiverLink",
    "Dose",
    "DoseEscalation",
    "Medicine",
    "Schedule",
    "Supply",
    "weekday_bit",
]
