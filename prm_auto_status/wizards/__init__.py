from . import prm_status_evaluate_wizard
from . import prm_status_override_wizard
from . import base_partner_merge
