"""Reading and writing a campaign file: YAML through PyYAML's compose API, which keeps every node's line, so each problem
is reported as ``LINE: path: what is wrong``."""

from __future__ import annotations

from typing import Any

import yaml

from handlers.campaigns.problems import Path, Problem, SpecInvalid
from handlers.campaigns.spec import CampaignSpec, validate


def load_yaml(text: str, *, holidays: str = "NL") -> CampaignSpec:
    """Parse and validate a campaign file; problems name the line of the value (or key) at fault.
    ``holidays``: the organisation's setting, for a file without ``holidays:``."""
    return load_yaml_with_lines(text, holidays=holidays)[0]


def load_yaml_with_lines(text: str, *, holidays: str = "NL") -> tuple[CampaignSpec, dict[Path, int]]:
    """`load_yaml`, also returning every path's line (to place problems found later, e.g. an unknown
    department, with `locate`)."""
    data, lines = yaml_with_lines(text)
    return validate(data, lines, holidays=holidays), lines


def yaml_with_lines(text: str) -> tuple[Any, dict[Path, int]]:
    """The document as plain data, and the (1-based) line of every mapping key and sequence item."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SpecInvalid([Problem((), "campaign.error.empty_file", line=1)])
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        reason = str(error.problem or error.context or "").strip()
        raise SpecInvalid(
            [Problem((), "campaign.error.yaml", {"reason": reason}, mark.line + 1 if mark else None)]
        ) from None
    except yaml.YAMLError as error:
        raise SpecInvalid([Problem((), "campaign.error.yaml", {"reason": str(error)}, None)]) from None
    finally:
        loader.dispose()
    lines: dict[Path, int] = {(): node.start_mark.line + 1}
    _walk(node, (), lines)
    return data, lines


def _walk(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, str(key_node.value))
            lines[child] = (
                value_node.start_mark.line + 1
                if isinstance(value_node, yaml.ScalarNode)
                else key_node.start_mark.line + 1
            )
            _walk(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), lines)


def dump_yaml(spec: CampaignSpec) -> str:
    """The campaign as a file (what `klantpet campaign export` prints; applying it again changes nothing)."""
    data: dict[str, Any] = {"key": spec.key, "name": spec.name}
    if spec.goal:
        data["goal"] = spec.goal
    if spec.owner:
        data["owner"] = spec.owner
    data.update(
        audience=spec.audience.to_yaml(),
        timezone=spec.timezone,
        starts=spec.starts,
    )
    if spec.ends:
        data["ends"] = spec.ends
    data.update(
        working_days=spec.working_days,
        quiet_hours=spec.quiet_hours or "none",
        holidays=spec.holidays.model_dump(exclude_none=True) if spec.holidays.country else "none",
    )
    steps = []
    for step in spec.steps:
        item: dict[str, Any] = {"key": step.key, "kind": step.kind, "cadence": step.cadence.to_yaml()}
        if step.audience is not None:
            item["audience"] = step.audience.to_yaml()
        for name in ("story", "text"):
            if getattr(step, name) is not None:
                item[name] = getattr(step, name)
        for name in ("pulse", "ritual"):
            options = getattr(step, name)
            if options is not None:
                item[name] = options.model_dump(mode="json", exclude_defaults=True)
        steps.append(item)
    data["steps"] = steps
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
