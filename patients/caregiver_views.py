"""My caregivers (as a patient) and the people I look after (as a caregiver). The writes are
``patients.caregivers``'; a link or patient that is not the user's is a 404."""

from __future__ import annotations

import smtplib

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from medications.api.caregivers import active_links, link_to
from medications.models import CaregiverLink

from . import caregivers
from .adherence import adherence, recent_missed
from .forms import InvitationForm, LinkSettingsForm
from .models import CaregiverInvitation, CaregiverLinkChange
from .pages import me, personal_page
from .today import day_doses, local_today


def _settings(form: LinkSettingsForm) -> caregivers.LinkSettings:
    return caregivers.LinkSettings(
        can_see_medication_details=form.cleaned_data["can_see_medication_details"],
        escalation_delay_minutes=form.cleaned_data["escalation_delay_minutes"],
    )


def _caregivers_page(
    request: HttpRequest, form: InvitationForm | None = None, status: int = 200
) -> HttpResponse:
    user = me(request)
    links = CaregiverLink.objects.filter(patient=user, active=True).select_related("caregiver")
    now = timezone.now()
    return render(
        request,
        "patients/caregivers.html",
        {
            "active": "caregivers",
            "form": form or InvitationForm(),
            "links": [
                (link, LinkSettingsForm(prefix=f"link{link.pk}", initial=link.__dict__))
                for link in links
            ],
            "invitations": [
                i
                for i in CaregiverInvitation.objects.filter(
                    patient=user, accepted_at__isnull=True, cancelled_at__isnull=True
                )
                if i.is_open(now)
            ],
            "changes": CaregiverLinkChange.objects.filter(patient=user).select_related(
                "changed_by", "caregiver"
            )[:20],
            "looking_after": active_links(user),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@personal_page
def caregivers_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _caregivers_page(request)
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return _caregivers_page(request, form, 400)
    if form.cleaned_data["phone"]:
        try:
            caregivers.invite_by_phone(me(request), form.cleaned_data["phone"], _settings(form))
        except caregivers.TooManyInvitations as refused:
            form.add_error("phone", str(refused))
            return _caregivers_page(request, form, 429)
        messages.success(
            request,
            _("Invitation on its way by SMS to %(phone)s.")
            % {"phone": form.cleaned_data["phone"].as_international},
        )
        return redirect("patients:caregivers")
    try:
        caregivers.invite(
            me(request),
            form.cleaned_data["email"],
            _settings(form),
            site_url=request.build_absolute_uri("/"),
        )
    except (smtplib.SMTPException, OSError):
        form.add_error(None, _("The invitation could not be sent just now: try again later."))
        return _caregivers_page(request, form, 503)
    messages.success(request, _("Invitation sent to %(email)s.") % form.cleaned_data)
    return redirect("patients:caregivers")


@require_POST
@personal_page
def change_link(request: HttpRequest, link_id: int) -> HttpResponse:
    form = LinkSettingsForm(request.POST, prefix=f"link{link_id}")
    try:
        caregivers.patient_link(me(request), link_id)
    except CaregiverLink.DoesNotExist:
        raise Http404 from None
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(str(e) for e in error))
        return redirect("patients:caregivers")
    caregivers.change(me(request), link_id, _settings(form))
    messages.success(request, _("Changes saved."))
    return redirect("patients:caregivers")


@require_POST
@personal_page
def revoke_link(request: HttpRequest, link_id: int) -> HttpResponse:
    try:
        link = caregivers.revoke(me(request), link_id)
    except CaregiverLink.DoesNotExist:
        raise Http404 from None
    name = link.caregiver.get_full_name() or link.caregiver.username
    messages.success(request, _("%(name)s no longer looks after you.") % {"name": name})
    return redirect("patients:caregivers")


@require_POST
@personal_page
def cancel_invitation(request: HttpRequest, invitation_id: int) -> HttpResponse:
    try:
        caregivers.cancel_invitation(me(request), invitation_id)
    except CaregiverInvitation.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("Invitation cancelled."))
    return redirect("patients:caregivers")


@require_http_methods(["GET", "POST"])
@personal_page
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "POST":
            link = caregivers.accept(token, me(request))
            patient = link.patient.get_full_name() or link.patient.username
            messages.success(request, _("You now look after %(name)s.") % {"name": patient})
            return redirect("patients:caring", patient_id=link.patient_id)
        invitation = caregivers.open_invitation(token)
    except caregivers.PhoneNotVerified as refused:
        # Still open: once the number is verified, the phone pages bring them back here.
        return render(
            request,
            "patients/accept.html",
            {"refused": str(refused), "verify_phone": _verify_then_return(request)},
            status=403,
        )
    except caregivers.InvitationRefused as refused:
        return render(request, "patients/accept.html", {"refused": str(refused)}, status=410)
    if invitation.by_sms and not caregivers.owns_number(me(request), invitation):
        return render(
            request,
            "patients/accept.html",
            {"invitation": invitation, "verify_phone": _verify_then_return(request)},
        )
    return render(request, "patients/accept.html", {"invitation": invitation})


def _verify_then_return(request: HttpRequest) -> str:
    return f"{reverse('accounts:phone')}?{urlencode({'next': request.path})}"


@require_GET
@personal_page
def caring_page(request: HttpRequest, patient_id: int) -> HttpResponse:
    try:
        link = link_to(me(request), patient_id)
    except CaregiverLink.DoesNotExist:
        raise Http404 from None
    patient = link.patient
    now = timezone.now()
    # The patient's clock, not the caregiver's: "the 08:00 dose" means 08:00 where the
    # patient lives, wherever the caregiver reads it. The page names the zone.
    with timezone.override(patient.timezone):
        return render(
            request,
            "patients/caring.html",
            {
                "active": "caregivers",
                "link": link,
                "patient": patient,
                "patient_zone": str(patient.timezone),
                "day": local_today(patient, now),
                "doses": day_doses(patient, local_today(patient, now)),
                "adherence": adherence(patient.pk, now),
                "missed": recent_missed(patient.pk, now),
            },
        )
