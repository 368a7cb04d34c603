"""The workspace's on/off settings, named once here where every app can read them.

The apps that act on a switch (conversations, assistants, satisfaction) import it from here;
``accounts.services.workspace_update`` accepts exactly these keys, as booleans.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.models import Workspace


@dataclass(frozen=True)
class Switch:
    key: str
    default: bool

    def is_on(self, workspace: Workspace) -> bool:
        return bool(workspace.setting(self.key, self.default))


# Agents also see (and may claim) conversations nobody is assigned to.
AGENTS_SEE_UNASSIGNED = Switch("agents_see_unassigned", False)
# The LLM keeps a summary, a priority and tags for each conversation.
AI_ANALYSIS = Switch("ai_analysis", True)
# Resolving a conversation asks the customer for a 1-5 rating.
CSAT_SURVEY = Switch("csat_survey", False)

SWITCHES = (AGENTS_SEE_UNASSIGNED, AI_ANALYSIS, CSAT_SURVEY)


def workspace_switches() -> dict[str, bool]:
    """Each switch an admin may change, with the value it has when unset."""
    return {switch.key: switch.default for switch in SWITCHES}
