"""docker/metadata-action's `tags` and `flavor` rules: parse, evaluate, sanitise — pure."""

from .compute import TagResult, compute_tags, is_oci_tag, oci_tag
from .rules import Flavor, Rule, parse_flavor, parse_rules

__all__ = ["Flavor", "Rule", "TagResult", "compute_tags", "is_oci_tag", "oci_tag", "parse_flavor", "parse_rules"]
