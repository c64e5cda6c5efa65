"""Component ids of the dashboard, one constant per component, prefixed by page.

Keeping the ids here lets pages, callbacks, tests and the role guard
(:data:`ROLE_REQUIRED`) refer to the same names.
"""
from __future__ import annotations

# ----------------------------------------------------------------- app shell
NAV_USER = "nav-user"

# ----------------------------------------------------------------- 会商 consultation
CONSULT_CITY = "consult-city"
CONSULT_DATE = "consult-date"
CONSULT_SUMMARY = "consult-summary"
CONSULT_TABS = "consult-tabs"
CONSULT_FAN = "consult-fan"
CONSULT_PROB = "consult-prob"
CONSULT_POLLUTANTS = "consult-pollutants"
CONSULT_LEVEL_PROB = "consult-level-prob"
CONSULT_LEVEL_TEXT = "consult-level-text"
CONSULT_RECENT = "consult-recent"
CONSULT_RECENT_SCORES = "consult-recent-scores"
CONSULT_SCORECARD = "consult-scorecard"
CONSULT_SCORE_METRIC = "consult-score-metric"
CONSULT_CMA = "consult-cma"
CONSULT_EVENTS_SOURCE = "consult-events-source"
CONSULT_EVENTS_CITY = "consult-events-city"
CONSULT_EVENTS_REGION = "consult-events-region"
CONSULT_LIVE_EVENTS = "consult-live-events"
CONSULT_MAP = "consult-map"
CONSULT_MAP_LEAD = "consult-map-lead"
CONSULT_NOTE = "consult-note"
CONSULT_NOTE_SAVE = "consult-note-save"
CONSULT_NOTE_STATUS = "consult-note-status"

# ----------------------------------------------------------------- 指挥 command
CMD_RECO = "cmd-reco"
CMD_EVENTS_TIMELINE = "cmd-events-timeline"
CMD_EVENTS_TEXT = "cmd-events-text"
CMD_ACTIVE = "cmd-active"
CMD_ACTION = "cmd-action"
CMD_ACTION_LEVEL = "cmd-action-level"
CMD_ACTION_REASON = "cmd-action-reason"
CMD_ACTION_BUTTON = "cmd-action-button"
CMD_CONFIRM = "cmd-confirm"
CMD_ACTION_RESULT = "cmd-action-result"
CMD_REFRESH = "cmd-refresh"
CMD_RED_LEVEL = "cmd-red-level"
CMD_RED_BY = "cmd-red-by"
CMD_RED_SUMMARY = "cmd-red-summary"
CMD_RED_TARGETS = "cmd-red-targets"
CMD_RED_GROUPS = "cmd-red-groups"
CMD_TABLE = "cmd-table"
CMD_TABLE_COUNT = "cmd-table-count"
CMD_BULLETIN = "cmd-bulletin"
CMD_DL_BULLETIN = "cmd-dl-bulletin"
CMD_DL_BULLETIN_TXT = "cmd-dl-bulletin-txt"
CMD_DL_NOTIFY = "cmd-dl-notify"
CMD_DOWNLOAD = "cmd-download"
CMD_HISTORY = "cmd-history"
CMD_AUDIT = "cmd-audit"
CMD_COMP_SUMMARY = "cmd-comp-summary"
CMD_COMP_VIOLATORS = "cmd-comp-violators"
CMD_COMP_UNVERIFIABLE = "cmd-comp-unverifiable"
CMD_COMP_REDUCTIONS = "cmd-comp-reductions"
CMD_COMP_FIGURE = "cmd-comp-figure"
CMD_COMP_DETAILS = "cmd-comp-details"
CMD_COMP_DL_REPORT = "cmd-comp-dl-report"
CMD_COMP_DOWNLOAD = "cmd-comp-download"

# ----------------------------------------------------------------- 企业查询 enterprise
ENT_QUERY = "ent-query"
ENT_SEARCH = "ent-search"
ENT_LEVEL = "ent-level"
ENT_RESULTS = "ent-results"
ENT_DETAIL = "ent-detail"

# ----------------------------------------------------------------- 清单管理 list management
LIST_UPLOAD = "list-upload"
LIST_VERSION_NAME = "list-version-name"
LIST_EFFECTIVE = "list-effective"
LIST_STORE = "list-store"
LIST_REPORT = "list-report"
LIST_IMPORT = "list-import"
LIST_REJECT = "list-reject"
LIST_RESULT = "list-result"
LIST_VERSIONS = "list-versions"

#: 公告编辑 (dashboard/pages/bulletin.py)
BUL_SEEN = "bul-seen"
BUL_TEXT = "bul-text"
BUL_REASON = "bul-reason"
BUL_SAVE = "bul-save"
BUL_RESULT = "bul-result"
BUL_EDITS = "bul-edits"

#: Outputs whose callbacks change state, and the roles allowed to trigger them.
#: The server refuses any other user's request before the callback runs, and the
#: callbacks check again themselves.
ROLE_REQUIRED: dict[str, tuple[str, ...]] = {
    CMD_ACTION_RESULT: ("commander",),
    BUL_RESULT: ("commander",),
    CONSULT_NOTE_STATUS: ("forecaster", "commander"),
    LIST_RESULT: ("list-admin",),
    LIST_STORE: ("list-admin",),
    # not a change of state, but the compliance report is never public: refused before the callback runs
    CMD_COMP_DOWNLOAD: ("viewer", "forecaster", "commander", "list-admin", "vice-mayor", "mayor"),
}
