"""Cognito: the user pool people sign in to, and the SPA client whose ID tokens open a connection."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from stacks.nag import acknowledge
from stacks.settings import StackSettings


class ChatIdentity(Construct):
    """E-mail sign-in with verified addresses, and one public client (no secret: SRP and refresh).

    With `managed_login_domain_prefix` set, also a Cognito domain with managed login, and the client
    may use the authorization-code flow (with PKCE: the client has no secret) to the listed URLs.
    """

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
        domain_prefix = settings.managed_login_domain_prefix
        managed_login = domain_prefix is not None
        self.client = self.user_pool.add_client(
            "WebClient",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True, user_password=settings.allow_user_password_auth),
            disable_o_auth=not managed_login,
            o_auth=_oauth_settings(settings) if managed_login else None,
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO]
            if managed_login
            else None,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=Duration.minutes(settings.id_token_validity_minutes),
            access_token_validity=Duration.minutes(settings.id_token_validity_minutes),
            refresh_token_validity=Duration.days(settings.refresh_token_validity_days),
        )
        self.domain: cognito.UserPoolDomain | None = None
        if domain_prefix is not None:
            self.domain = self.user_pool.add_domain(
                "ManagedLoginDomain",
                cognito_domain=cognito.CognitoDomainOptions(domain_prefix=domain_prefix),
                managed_login_version=cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN,
            )
            # Managed login shows a page only for clients with a branding style: Cognito's own.
            cognito.CfnManagedLoginBranding(
                self,
                "ManagedLoginBranding",
                user_pool_id=self.user_pool.user_pool_id,
                client_id=self.client.user_pool_client_id,
                use_cognito_provided_values=True,
            )

    @property
    def managed_login_url(self) -> str | None:
        """The domain's base URL (`https://<prefix>.auth.<region>.amazoncognito.com`), if there is one."""
        return None if self.domain is None else self.domain.base_url()


def _oauth_settings(settings: StackSettings) -> cognito.OAuthSettings:
    return cognito.OAuthSettings(
        flows=cognito.OAuthFlows(authorization_code_grant=True),
        scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callback_urls=list(settings.managed_login_callback_urls or ()),
        logout_urls=list(settings.managed_login_logout_urls or ()),
    )
