"""Resolve CloudFormation intrinsic functions against the resources of the local stack.

Only the functions CDK emits for this kind of stack are supported (Ref, Fn::GetAtt, Fn::Join, Fn::Sub,
Fn::Select, Fn::Split); anything else raises, so a template the local stack cannot read fails loudly
instead of running with a wrong value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class UnsupportedIntrinsic(ValueError):
    """The template uses an intrinsic function (or a reference) the local stack cannot resolve."""


_ARN_PATTERNS = {
    "AWS::Lambda::Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{region}:{account}:table/{name}",
    "AWS::IAM::Role": "arn:aws:iam::{account}:role/{name}",
    "AWS::Cognito::UserPool": "arn:aws:cognito-idp:{region}:{account}:userpool/{name}",
    "AWS::Logs::LogGroup": "arn:aws:logs:{region}:{account}:log-group:{name}:*",
    "AWS::SQS::Queue": "arn:aws:sqs:{region}:{account}:{name}",
}


@dataclass
class Resolver:
    """Turns template values into concrete ones; ``physical`` and ``attributes`` hold what is known."""

    resources: dict[str, dict[str, Any]]
    region: str
    account: str
    stack_name: str
    physical: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)

    def pseudo(self, name: str) -> str:
        values = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{self.stack_name}/0",
            "AWS::NoValue": "",
        }
        if name not in values:
            raise UnsupportedIntrinsic(f"pseudo parameter {name}")
        return values[name]

    def ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.parameters:
            return self.parameters[name]
        if name not in self.resources:
            raise UnsupportedIntrinsic(f"Ref to unknown resource {name}")
        return self.physical.get(name) or self.default_name(name)

    def default_name(self, logical_id: str) -> str:
        """A physical name like the one CloudFormation generates (``<stack>-<logical id>``)."""
        return f"{self.stack_name}-{logical_id}"[:64]

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if (logical_id, attribute) in self.attributes:
            return self.attributes[(logical_id, attribute)]
        if logical_id not in self.resources:
            raise UnsupportedIntrinsic(f"Fn::GetAtt of unknown resource {logical_id}")
        kind = self.resources[logical_id]["Type"]
        if attribute == "Arn":
            pattern = _ARN_PATTERNS.get(kind, "arn:aws:local:{region}:{account}:{name}")
            return pattern.format(region=self.region, account=self.account, name=self.ref(logical_id))
        raise UnsupportedIntrinsic(f"Fn::GetAtt {logical_id}.{attribute} ({kind})")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key.startswith("Fn::"):
                return self._function(key, argument)
        return {key: self.resolve(item) for key, item in value.items()}

    def _function(self, name: str, argument: Any) -> Any:
        if name == "Fn::GetAtt":
            logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return self.get_att(logical_id, self.resolve(attribute))
        if name == "Fn::Join":
            delimiter, items = argument
            return self.resolve(delimiter).join(str(item) for item in self.resolve(items))
        if name == "Fn::Select":
            index, items = self.resolve(argument)
            return items[int(index)]
        if name == "Fn::Split":
            delimiter, text = self.resolve(argument)
            return text.split(delimiter)
        if name == "Fn::Sub":
            return self._sub(argument)
        raise UnsupportedIntrinsic(name)

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        variables = {key: self.resolve(item) for key, item in variables.items()}

        def replace(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"
            if expression in variables:
                return str(variables[expression])
            if "." in expression and not expression.startswith("AWS::"):
                logical_id, attribute = expression.split(".", 1)
                return str(self.get_att(logical_id, attribute))
            return str(self.ref(expression))

        return _SUB_VARIABLE.sub(replace, text)
