import type { Skill } from "../types";
import { Badge } from "./ui";

export function VisibilityBadge({ skill }: { skill: Pick<Skill, "isCore" | "visibility"> }) {
  if (skill.isCore || skill.visibility === "core") return <Badge tone="brand">Core</Badge>;
  if (skill.visibility === "private") return <Badge tone="warning">Private</Badge>;
  return <Badge tone="info">Public</Badge>;
}
