import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("prm_status_portal_tour", {
    url: "/my/status",
    steps: () => [
        {
            content: "The partner's program and level are shown",
            trigger: ".o_prm_program .o_prm_level:contains('Silver')",
        },
        {
            content: "A progress bar toward the next level is shown",
            trigger: ".o_prm_conditions .progress-bar.o_prm_progress",
        },
        {
            content: "The amount still missing is shown",
            trigger: ".o_prm_conditions .o_prm_missing:contains('more')",
        },
    ],
});
