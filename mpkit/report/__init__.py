"""Reports: the diagnosis notebook executed with papermill, exported to one self-contained HTML file.

Public entry points (the CLI maps one flag onto one keyword):

* :func:`report` — ``mpkit report PATH -o report.html``;
* :func:`batch` — ``mpkit batch INPUTS… -o OUTDIR [--workers N] [--scheduler ADDR]``;
* :func:`validate_parameters` — the notebook's parameters checked before any kernel starts.

The notebook (``mpkit/notebooks/diagnose.ipynb``) holds no logic: each cell calls
:func:`prepare`, :func:`mpkit.diagnose.diagnose`, a view (which returns an :class:`Html` fragment
whose every value is escaped) or a chart from :mod:`mpkit.plots`, and displays it.

The HTML has no code, no prompts, no script at all, images embedded as ``data:`` URIs and a
Content-Security-Policy that forbids scripts and every network fetch, so it opens offline from
``file://``. A failing cell still yields an HTML report, with an error banner on top and everything
up to the failure, and :func:`report` raises :class:`~mpkit.errors.ReportError`.

One module per stage, each importing only the ones before it:

* :mod:`.params` — the notebook's parameters and the mime type of the diagnosis it emits;
* :mod:`.markup` — escaping, :class:`Html`, tables, the self-contained page;
* :mod:`.context` — in the kernel: load the bundle, the time window, the focus (:func:`prepare`, :func:`focus`);
* :mod:`.views` — the HTML views; the table views are data (:data:`TABLE_VIEWS`);
* :mod:`.run` — kernel, papermill execution, HTML export, :func:`report`;
* :mod:`.fleet` — :func:`batch` (processes or Dask) and the fleet summary page.

Every public name is re-exported here, so ``from mpkit.report import …`` and ``report.<name>`` (the
notebook) keep working.
"""

from __future__ import annotations

from .context import (
    CHARTS,
    ReportContext,
    chart,
    diagnosis,
    focus,
    prepare,
    prepare_to_file,
    redacted_copy,
    redactor_class,
)
from .fleet import FLEET_COLUMNS, NO_FAILURE, batch, batch_task, fleet_index
from .markup import HTML_CSP, Html, esc, page
from .params import DIAGNOSIS_MIME, PARAMETERS, Param, validate_parameters
from .run import (
    KERNEL_NAME,
    KERNEL_START_TRIES,
    NOTEBOOK_ONLY_TAG,
    PACKAGE_DIR,
    ReportRun,
    diagnosis_from_notebook,
    ensure_kernel,
    export_html,
    kernel_manager_kwargs,
    notebook_path,
    report,
    run_report,
)
from .views import (
    TABLE_VIEWS,
    TableSpec,
    TableView,
    attempts_table,
    checklist,
    collect_next,
    data_coverage,
    dhcp_table,
    emit,
    evidence_table,
    firewall_table,
    header,
    host_versions,
    interfaces_table,
    log_excerpt,
    prevention,
    remediation,
    render_table,
    render_view,
    routes_table,
    verdict,
)

__all__ = [
    "PARAMETERS",
    "DIAGNOSIS_MIME",
    "Html",
    "ReportContext",
    "report",
    "batch",
    "validate_parameters",
    "notebook_path",
    "ensure_kernel",
    "export_html",
    "diagnosis_from_notebook",
    "prepare",
    "focus",
    # parameters, markup, context
    "Param",
    "HTML_CSP",
    "esc",
    "page",
    "redacted_copy",
    "redactor_class",
    "diagnosis",
    "prepare_to_file",
    "chart",
    "CHARTS",
    # views (called by the notebook)
    "emit",
    "header",
    "verdict",
    "checklist",
    "remediation",
    "collect_next",
    "attempts_table",
    "dhcp_table",
    "log_excerpt",
    "host_versions",
    "interfaces_table",
    "routes_table",
    "firewall_table",
    "evidence_table",
    "data_coverage",
    "prevention",
    "TableSpec",
    "TableView",
    "TABLE_VIEWS",
    "render_table",
    "render_view",
    # run, batch and fleet
    "KERNEL_NAME",
    "KERNEL_START_TRIES",
    "NOTEBOOK_ONLY_TAG",
    "PACKAGE_DIR",
    "ReportRun",
    "run_report",
    "kernel_manager_kwargs",
    "NO_FAILURE",
    "FLEET_COLUMNS",
    "batch_task",
    "fleet_index",
]
