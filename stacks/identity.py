"""Cognito: the user pool people sign in to, and the SPA client whose ID tokens open a connection."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from stacks.nag import acknowledge
from stacks.settings import StackSettings


class ChatIdentity(Construct):
    """E-mail sign-in with verified addresses, and one public client (no secret: SRP and refresh)."""

    def __init__(self, scope: Construct, id_: str, *, settings: StackSettings) -> None:
        super().__init__(scope, id_)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            self_sign_up_enabled=True,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            keep_original=cognito.KeepOriginalAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            deletion_protection=settings.deletion_protection,
            removal_policy=RemovalPolicy.RETAIN if settings.retain_data else RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG2",
            "MFA is optional (TOTP), not required: chat users self-register and sign in from browsers; "
            "requiring MFA at sign-up is a product decision, and every user can turn TOTP on.",
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG8",
            "Essentials feature plan: Plus (threat protection) is billed per monthly active user and is "
            "enabled per account by its owner; passwords are long and complex, user existence errors "
            "are prevented, and refresh tokens are revocable.",
        )
        self.client = self.user_pool.add_client(
            "WebClient",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True, user_password=settings.allow_user_password_auth),
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=Duration.minutes(settings.id_token_validity_minutes),
            access_token_validity=Duration.minutes(settings.id_token_validity_minutes),
            refresh_token_validity=Duration.days(settings.refresh_token_validity_days),
        )
