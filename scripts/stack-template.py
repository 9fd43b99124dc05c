"""Writes the two JSON forms of template.yaml that `make stack` needs (scripts/stack.sh):

  <out>/template.json  the template as it is, in JSON: what the stack suite checks against
  <out>/deployed.json  the same with the overrides LocalStack needs, which CloudFormation deploys

The overrides, and nothing else:
  - each function's CodeUri is the folder holding its host build's `bootstrap`, and its
    architecture the host's (LocalStack runs the functions as processes of this host);
  - `{{resolve:secretsmanager:ARN:SecretString}}` is written `:SecretString:::` (the same
    reference in full form: the short one crashes LocalStack's change-set description);
  - `ScheduleV2` events (EventBridge Scheduler, which never fires on LocalStack) become
    `Schedule` events (an EventBridge rule) with the same expression;
  - with --no-auth-service, AUTH_SERVICE_URL is left out, as `make run` runs without one.

--break also breaks the copy on purpose, for the suite's own test: one route moved to another
function and one variable a function needs removed.

usage: stack-template.py TEMPLATE OUT_DIR CODE_DIR ARCH [--no-auth-service] [--break]
"""

import copy
import json
import re
import sys
from pathlib import Path

import yaml

SHORT_FORMS = {
    "Ref": "Ref",
    "Condition": "Condition",
    "GetAtt": "Fn::GetAtt",
}
FUNCTIONS = "Base64 Cidr FindInMap GetAZs ImportValue Join Select Split Sub Transform If Not Equals And Or"


class TemplateLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (`!Ref`, `!Sub`, …) read as their long forms."""


def _intrinsic(name: str):
    key = SHORT_FORMS.get(name, f"Fn::{name}")

    def construct(loader: TemplateLoader, node: yaml.Node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if name == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {key: value}

    return construct


for tag in [*SHORT_FORMS, *FUNCTIONS.split()]:
    TemplateLoader.add_constructor(f"!{tag}", _intrinsic(tag))

SECRET_REFERENCE = re.compile(r"(\{\{resolve:secretsmanager:.*?:SecretString)\}\}")


def full_secret_references(value):
    if isinstance(value, str):
        return SECRET_REFERENCE.sub(r"\1:::}}", value)
    if isinstance(value, list):
        return [full_secret_references(item) for item in value]
    if isinstance(value, dict):
        return {key: full_secret_references(item) for key, item in value.items()}
    return value


def functions(template: dict) -> dict[str, dict]:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def for_localstack(template: dict, code_dir: Path, arch: str, auth_service: bool) -> dict:
    deployed = full_secret_references(copy.deepcopy(template))
    deployed["Globals"]["Function"]["Architectures"] = [arch]
    for resource in functions(deployed).values():
        binary = resource["Metadata"]["BuildProperties"]["Binary"]
        resource["Properties"]["CodeUri"] = str(code_dir / binary)
        resource["Properties"].pop("Architectures", None)
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "ScheduleV2":
                scheduled = event["Properties"]
                event["Type"] = "Schedule"
                event["Properties"] = {"Schedule": scheduled["ScheduleExpression"]} | {
                    key: scheduled[key]
                    for key in ("Name", "Description", "Input")
                    if key in scheduled
                }
    if not auth_service:
        del deployed["Globals"]["Function"]["Environment"]["Variables"]["AUTH_SERVICE_URL"]
    return deployed


def broken(deployed: dict) -> dict:
    """/streaks routed to the nutrition function; FOOD_IMAGES_BUCKET gone."""
    resources = deployed["Resources"]
    streaks = resources["FoodEntriesFunction"]["Properties"]["Events"].pop("Streaks")
    resources["NutritionFunction"]["Properties"]["Events"]["Streaks"] = streaks
    del deployed["Globals"]["Function"]["Environment"]["Variables"]["FOOD_IMAGES_BUCKET"]
    print("broken on purpose: /streaks routed to NutritionFunction, FOOD_IMAGES_BUCKET removed",
          file=sys.stderr)
    return deployed


def main(args: list[str]) -> None:
    flags = {arg for arg in args if arg.startswith("--")}
    template_path, out_dir, code_dir, arch = [arg for arg in args if not arg.startswith("--")]
    template = yaml.load(Path(template_path).read_text(), Loader=TemplateLoader)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "template.json").write_text(json.dumps(template, indent=2))
    deployed = for_localstack(
        template, Path(code_dir).resolve(), arch, "--no-auth-service" not in flags
    )
    if "--break" in flags:
        deployed = broken(deployed)
    (out / "deployed.json").write_text(json.dumps(deployed, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
