from odoo import http
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal


class PartnerStatusPortal(CustomerPortal):
    """``/my/status``: a partner's levels, its progress and its history.

    Everything shown comes from the engine's explanation for the user's own
    commercial entity; nothing here computes a level.
    """

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "prm_program_count" in counters:
            values["prm_program_count"] = len(self._prm_programs())
        return values

    def _prm_commercial_partner(self):
        return request.env.user.partner_id.commercial_partner_id

    def _prm_programs(self):
        """Running programs the user's commercial entity takes part in.

        Programs are read with sudo because a partner that was never
        evaluated has no status yet; the result is filtered to programs
        whose participants include that one partner.
        """
        partner = self._prm_commercial_partner()
        programs = (
            request.env["prm.status.program"]
            .sudo()
            .search(
                [
                    ("state", "=", "running"),
                    ("company_id", "in", request.env.user.company_ids.ids),
                ]
            )
        )
        return programs.filtered(lambda program: program._get_participants(partner))

    @http.route("/my/status", type="http", auth="user", website=True)
    def portal_my_status(self, **kwargs):
        partner = self._prm_commercial_partner()
        Status = request.env["prm.partner.status"]
        History = request.env["prm.status.history"]
        Status.check_access("read")
        History.check_access("read")
        statuses = Status.search([("partner_id", "=", partner.id)])
        histories = History.search([("partner_id", "=", partner.id)])
        programs = self._prm_programs()
        sections = []
        for program in programs:
            status = statuses.filtered(
                lambda s, program=program: s.program_id == program
            )
            explanation = (
                request.env["prm.status.engine"].sudo().explain(program, partner)
            )
            sections.append(
                {
                    "program": program,
                    "status": status,
                    "explanation": explanation,
                    # Read with sudo once filtered by the record rules to
                    # the user's own entity: the rule names are shown.
                    "history": histories.filtered(
                        lambda h, program=program: h.program_id == program
                    ).sudo(),
                }
            )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "prm_status",
                "partner": partner,
                "sections": sections,
            }
        )
        return request.render("prm_auto_status.portal_my_status", values)
