"""Caregiver invitations over the API: the same services as the pages (``caregivers.py``).

GET    /api/caregiver-invitations/          the caller's invitations still open
POST   /api/caregiver-invitations/          invite by ``email`` or by ``phone`` (SMS)
DELETE /api/caregiver-invitations/{id}/     cancel one
POST   /api/caregiver-invitations/accept/   accept one with the token from its link
"""

from __future__ import annotations

import smtplib
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, Throttled
from rest_framework.request import Request
from rest_framework.response import Response

from notifications.api.base import ApiView, caller, checked_id
from notifications.api.schema import COMMON, INVALID, NOT_FOUND, detail_response
from notifications.api.validation import StrictFieldsMixin

from . import caregivers
from .forms import is_mobile
from .models import CaregiverInvitation

TAG = "caregivers"


class InvitationSerializer(serializers.ModelSerializer):
    sent_by = serializers.SerializerMethodField(help_text="`email` or `sms`.")
    phone = serializers.SerializerMethodField(help_text="E.164, or empty for an email.")

    class Meta:
        model = CaregiverInvitation
        fields = [
            "id",
            "sent_by",
            "email",
            "phone",
            "sms_status",
            "can_see_medication_details",
            "escalation_delay_minutes",
            "created_at",
            "expires_at",
        ]

    def get_sent_by(self, invitation: CaregiverInvitation) -> str:
        return "sms" if invitation.by_sms else "email"

    def get_phone(self, invitation: CaregiverInvitation) -> str:
        return invitation.phone.as_e164 if invitation.phone else ""


class InviteSerializer(StrictFieldsMixin, serializers.Serializer):
    email = serializers.EmailField(max_length=254, required=False)
    phone = PhoneNumberField(
        region="ZA",
        required=False,
        max_length=32,
        help_text="A mobile number: E.164 (`+27821234567`) or South African (`082 123 4567`).",
    )
    can_see_medication_details = serializers.BooleanField(required=False, default=False)
    escalation_delay_minutes = serializers.IntegerField(
        required=False, default=30, min_value=0, max_value=caregivers.MAX_ESCALATION_DELAY_MINUTES
    )

    def validate_phone(self, value: Any) -> Any:
        if value and not is_mobile(value):
            raise serializers.ValidationError(
                _("This is not a mobile number: a text message cannot reach it.")
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("email") and attrs.get("phone"):
            raise serializers.ValidationError(
                {"phone": [_("Give an email address or a mobile number, not both.")]}
            )
        if not attrs.get("email") and not attrs.get("phone"):
            raise serializers.ValidationError(
                {"email": [_("Give the caregiver's email address or mobile number.")]}
            )
        return attrs


class AcceptSerializer(StrictFieldsMixin, serializers.Serializer):
    token = serializers.CharField(max_length=100, help_text="The last part of the link.")


class AcceptedSerializer(serializers.Serializer):
    patient_id = serializers.IntegerField()
    can_see_medication_details = serializers.BooleanField()
    escalation_delay_minutes = serializers.IntegerField()


class Gone(APIException):
    status_code = status.HTTP_410_GONE
    default_code = "gone"


class MailUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "unavailable"


def _open_invitations(user: Any) -> list[CaregiverInvitation]:
    now = timezone.now()
    return list(
        CaregiverInvitation.objects.filter(
            patient=user, accepted_at__isnull=True, cancelled_at__isnull=True, expires_at__gt=now
        )
    )


class InvitationListView(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="The caller's caregiver invitations not yet accepted, cancelled or expired",
        responses={200: InvitationSerializer(many=True), **COMMON},
    )
    def get(self, request: Request) -> Response:
        invitations = _open_invitations(caller(request))
        return Response(InvitationSerializer(invitations, many=True).data)

    @extend_schema(
        tags=[TAG],
        summary="Invite a caregiver by email or, by SMS, to a mobile number",
        description=(
            "Exactly one of `email` and `phone`. The invitation carries a one-time link, "
            "valid 7 days (only a hash of its token is stored). An email goes out before "
            "the answer; an SMS is sent by a worker (`sms_status` tells how it went) and "
            "names the patient, never a medicine. The person invited by SMS accepts once "
            "signed in with that number verified on their account. At most 5 invitations "
            "by phone a day: **429** past that."
        ),
        request=InviteSerializer,
        responses={
            201: InvitationSerializer,
            400: INVALID,
            **COMMON,
            429: detail_response("The day's invitations by phone are used up."),
            503: detail_response("The email could not be sent; nothing was kept."),
        },
    )
    def post(self, request: Request) -> Response:
        answer = InviteSerializer(data=request.data)
        answer.is_valid(raise_exception=True)
        data = answer.validated_data
        chosen = caregivers.LinkSettings(
            data["can_see_medication_details"], data["escalation_delay_minutes"]
        )
        if data.get("phone"):
            try:
                invitation = caregivers.invite_by_phone(caller(request), data["phone"], chosen)
            except caregivers.TooManyInvitations as refused:
                raise Throttled(detail=str(refused)) from None
        else:
            try:
                invitation = caregivers.invite(
                    caller(request), data["email"], chosen, site_url=settings.SITE_BASE_URL
                )
            except (smtplib.SMTPException, OSError):
                raise MailUnavailable(
                    _("The invitation could not be sent just now: try again later.")
                ) from None
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationDetailView(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="Cancel one of the caller's open invitations",
        responses={204: None, 404: NOT_FOUND, **COMMON},
    )
    def delete(self, request: Request, invitation_id: int) -> Response:
        try:
            caregivers.cancel_invitation(caller(request), checked_id(invitation_id))
        except CaregiverInvitation.DoesNotExist:
            raise NotFound from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class AcceptInvitationView(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="Accept a caregiver invitation as the caller",
        description=(
            "`token` is the last part of the link in the invitation. An invitation sent by "
            "SMS is accepted only by someone whose verified number is the one it was sent "
            "to (**403** otherwise: verify it, then try again). Expired, cancelled, already "
            "accepted or unknown invitations, and one's own, answer **410**."
        ),
        request=AcceptSerializer,
        responses={
            201: AcceptedSerializer,
            400: INVALID,
            **COMMON,
            403: detail_response("Sent by SMS to a number the caller has not verified."),
            410: detail_response("The invitation cannot be accepted (the detail says why)."),
        },
    )
    def post(self, request: Request) -> Response:
        answer = AcceptSerializer(data=request.data)
        answer.is_valid(raise_exception=True)
        try:
            link = caregivers.accept(answer.validated_data["token"], caller(request))
        except caregivers.PhoneNotVerified as refused:
            raise PermissionDenied(str(refused)) from None
        except caregivers.InvitationRefused as refused:
            raise Gone(str(refused)) from None
        accepted = {
            "patient_id": link.patient_id,
            "can_see_medication_details": link.can_see_medication_details,
            "escalation_delay_minutes": link.escalation_delay_minutes,
        }
        return Response(AcceptedSerializer(accepted).data, status=status.HTTP_201_CREATED)
