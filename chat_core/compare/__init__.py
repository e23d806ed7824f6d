"""Compare: one prompt to 2-4 lanes (back end, model, parameters), streamed side by side.

    lanes        LaneSpec, its checks (2-4 lanes, known models, the prompt), blind names
    health       live stream health per lane from the chat's metrics; the best of each
    render       every lane's new chunks per frame, from one loop
    running      start the lanes' runs, follow up per lane, stop, Continue in Chat
    leaderboard  votes -> won / tied / lost and median speeds per model
    export       a compare as JSON and Markdown
    backends     each lane's settings and back end, from the owner's settings

Pure logic apart from ``running`` (store and runs) and ``backends`` (factory calls).
Never imports Streamlit; the page is ``app_pages/compare.py``.
"""

from __future__ import annotations

from chat_core.compare.backends import available_backends, lane_settings
from chat_core.compare.export import (
    compare_document,
    compare_filename,
    compare_json,
    compare_markdown,
)
from chat_core.compare.health import (
    LaneHealth,
    best_lanes,
    health_parts,
    live_health,
    stored_health,
)
from chat_core.compare.lanes import (
    BLIND_NAMES,
    LANE_BACKENDS,
    MAX_LANES,
    MIN_LANES,
    LaneSpec,
    check_lanes,
    check_prompt,
    default_lanes,
    lane_from_dict,
    lane_name,
)
from chat_core.compare.leaderboard import (
    ALL_BAD,
    TIE,
    AnswerSample,
    LeaderRow,
    VoteRecord,
    check_verdict,
    leaderboard,
    verdict_label,
)
from chat_core.compare.render import LaneFrame, lane_frames
from chat_core.compare.running import (
    LaneTurn,
    continue_in_chat,
    follow_up,
    lane_history,
    lane_turns,
    live_lanes,
    reload,
    start_compare,
    stop_all,
    stop_lane,
)
from chat_core.compare.votes import owner_leaderboard, vote
from chat_core.storage.compares import CompareRecord, CompareSummary, list_compares

__all__ = [
    "ALL_BAD",
    "BLIND_NAMES",
    "LANE_BACKENDS",
    "MAX_LANES",
    "MIN_LANES",
    "TIE",
    "AnswerSample",
    "CompareRecord",
    "CompareSummary",
    "LaneFrame",
    "LaneHealth",
    "LaneSpec",
    "LaneTurn",
    "LeaderRow",
    "VoteRecord",
    "available_backends",
    "best_lanes",
    "check_lanes",
    "check_prompt",
    "check_verdict",
    "compare_document",
    "compare_filename",
    "compare_json",
    "compare_markdown",
    "continue_in_chat",
    "default_lanes",
    "follow_up",
    "health_parts",
    "lane_frames",
    "lane_from_dict",
    "lane_history",
    "lane_name",
    "lane_settings",
    "lane_turns",
    "leaderboard",
    "list_compares",
    "live_health",
    "live_lanes",
    "owner_leaderboard",
    "reload",
    "start_compare",
    "stop_all",
    "stop_lane",
    "stored_health",
    "verdict_label",
    "vote",
]
