"""The rule that derives relief cases from a person's health timeline (services/relief/cases/episodes.py), as plain
functions: `episodes` (every confirmation starts an episode, the next discharge or death closes it) and `plan`
(what must change so that the person's cases agree with the episodes)."""

import itertools
import random
from datetime import date

from services.relief.cases.episodes import CaseState, Episode, Fact, episodes, plan

D = date.fromisoformat


def fact(id_: str, kind: str, day: str) -> Fact:
    return Fact(id_, kind, D(day))


def case(
    id_: str,
    diagnosed_on: str,
    closed_on: str | None = None,
    *,
    confirmation_id: str | None = None,
    opened_by: str = "event",
    corrected_by_hand: frozenset[str] = frozenset(),
) -> CaseState:
    return CaseState(
        id=id_, diagnosed_on=D(diagnosed_on), closed_on=None if closed_on is None else D(closed_on),
        confirmation_id=confirmation_id, opened_by=opened_by, corrected_by_hand=corrected_by_hand,
    )  # fmt: skip


def summary(changes) -> list[tuple]:
    """(kind, case id, repair, confirmation of the episode) of each change, in plan order."""
    return [(c.kind, c.case_id, c.repair, c.episode.confirmation_id if c.episode else None) for c in changes]


# --- episodes -------------------------------------------------------------------------------------------------------


def test_a_confirmation_alone_is_one_open_episode():
    assert episodes([fact("c1", "confirmed", "2020-02-01")]) == [Episode("c1", D("2020-02-01"))]


def test_no_facts_no_episodes():
    assert episodes([]) == []


def test_a_discharge_closes_the_episode_on_its_date():
    timeline = [fact("c1", "confirmed", "2020-02-01"), fact("d1", "discharged", "2020-02-20")]
    assert episodes(timeline) == [Episode("c1", D("2020-02-01"), D("2020-02-20"), "discharged")]


def test_confirmed_discharged_confirmed_again_is_two_episodes():
    timeline = [
        fact("c1", "confirmed", "2020-02-01"),
        fact("d1", "discharged", "2020-02-20"),
        fact("c2", "confirmed", "2020-04-02"),
    ]
    assert episodes(timeline) == [
        Episode("c1", D("2020-02-01"), D("2020-02-20"), "discharged"),
        Episode("c2", D("2020-04-02")),
    ]


def test_death_closes_the_episode_with_reason_deceased():
    timeline = [fact("c1", "confirmed", "2020-02-10"), fact("x1", "deceased", "2020-04-10")]
    assert episodes(timeline) == [Episode("c1", D("2020-02-10"), D("2020-04-10"), "deceased")]


def test_the_full_timeline_gives_two_closed_episodes():
    timeline = [
        fact("c1", "confirmed", "2020-02-01"),
        fact("d1", "discharged", "2020-02-20"),
        fact("c2", "confirmed", "2020-04-02"),
        fact("x1", "deceased", "2020-05-10"),
    ]
    assert episodes(timeline) == [
        Episode("c1", D("2020-02-01"), D("2020-02-20"), "discharged"),
        Episode("c2", D("2020-04-02"), D("2020-05-10"), "deceased"),
    ]


def test_the_order_the_facts_come_in_does_not_matter():
    timeline = [
        fact("c1", "confirmed", "2020-02-01"),
        fact("i1", "isolated", "2020-02-01"),
        fact("d1", "discharged", "2020-02-20"),
        fact("r1", "released", "2020-03-05"),
        fact("c2", "confirmed", "2020-04-02"),
        fact("x1", "deceased", "2020-05-10"),
    ]
    expected = episodes(timeline)
    assert len(expected) == 2
    for order in itertools.permutations(timeline):
        assert episodes(order) == expected
    rng = random.Random(2020)
    for _ in range(20):
        shuffled = list(timeline) + list(timeline)  # repeated facts change nothing either
        rng.shuffle(shuffled)
        assert episodes(shuffled) == expected


def test_events_of_one_day_are_taken_in_the_order_of_their_ids():
    # the confirmation recorded first (smaller id): the discharge of the same day closes it
    same_day = [fact("02", "discharged", "2020-02-01"), fact("01", "confirmed", "2020-02-01")]
    assert episodes(same_day) == [Episode("01", D("2020-02-01"), D("2020-02-01"), "discharged")]
    # the discharge recorded first: it closes nothing, the confirmation stays open
    reversed_ids = [fact("01", "discharged", "2020-02-01"), fact("02", "confirmed", "2020-02-01")]
    assert episodes(reversed_ids) == [Episode("02", D("2020-02-01"))]


def test_other_kinds_are_ignored():
    timeline = [
        fact("s1", "suspected", "2020-01-28"),
        fact("i1", "isolated", "2020-01-29"),
        fact("c1", "confirmed", "2020-02-01"),
        fact("r1", "released", "2020-02-10"),
        fact("k1", "cleared", "2020-02-12"),
        fact("d1", "discharged", "2020-02-20"),
    ]
    assert episodes(timeline) == [Episode("c1", D("2020-02-01"), D("2020-02-20"), "discharged")]
    assert episodes([fact("s1", "suspected", "2020-01-28"), fact("i1", "isolated", "2020-01-29"),
                     fact("r1", "released", "2020-02-10"), fact("k1", "cleared", "2020-02-12")]) == []  # fmt: skip


def test_a_discharge_without_a_confirmation_is_nothing():
    assert episodes([fact("d1", "discharged", "2020-02-20")]) == []
    assert episodes([fact("x1", "deceased", "2020-02-20")]) == []


def test_a_second_confirmation_while_one_is_open_starts_nothing():
    timeline = [
        fact("c1", "confirmed", "2020-02-01"),
        fact("c2", "confirmed", "2020-02-05"),
        fact("d1", "discharged", "2020-02-20"),
        fact("d2", "discharged", "2020-02-25"),
    ]
    assert episodes(timeline) == [Episode("c1", D("2020-02-01"), D("2020-02-20"), "discharged")]


# --- plan -----------------------------------------------------------------------------------------------------------

OPEN = Episode("c1", D("2020-02-01"))
CLOSED = Episode("c1", D("2020-02-01"), D("2020-02-20"), "discharged")


def test_cases_that_agree_need_nothing():
    assert plan([CLOSED], [case("k1", "2020-02-01", "2020-02-20", confirmation_id="c1")]) == []
    assert plan([OPEN], [case("k1", "2020-02-01", confirmation_id="c1")]) == []
    assert plan([], []) == []


def test_an_episode_without_a_case_calls_for_one():
    [change] = plan([CLOSED], [])
    assert (change.kind, change.episode, change.case_id, change.repair) == ("case_missing", CLOSED, None, True)


def test_an_open_case_of_a_closed_episode_is_closed():
    [change] = plan([CLOSED], [case("k1", "2020-02-01", confirmation_id="c1")])
    assert (change.kind, change.episode, change.case_id, change.repair) == ("case_not_closed", CLOSED, "k1", True)
    assert "2020-02-20" in change.detail


def test_a_close_date_that_differs_is_corrected():
    [change] = plan([CLOSED], [case("k1", "2020-02-01", "2020-04-15", confirmation_id="c1")])
    assert (change.kind, change.case_id, change.repair) == ("closed_on_differs", "k1", True)
    assert change.detail == "2020-04-15 → 2020-02-20"


def test_a_close_date_corrected_by_hand_is_kept():
    hand = case("k1", "2020-02-01", "2020-04-15", confirmation_id="c1", corrected_by_hand=frozenset({"closed_on"}))
    [change] = plan([CLOSED], [hand])
    assert (change.kind, change.case_id, change.repair) == ("closed_on_differs", "k1", False)
    assert change.detail.startswith("2020-04-15 → 2020-02-20")
    # only the close date is kept: a diagnosis date corrected by hand does not protect it
    other = case("k1", "2020-02-01", "2020-04-15", confirmation_id="c1",
                 corrected_by_hand=frozenset({"diagnosed_on"}))  # fmt: skip
    assert summary(plan([CLOSED], [other])) == [("closed_on_differs", "k1", True, "c1")]


def test_a_diagnosis_date_that_differs_is_corrected_unless_corrected_by_hand():
    [change] = plan([CLOSED], [case("k1", "2020-02-03", "2020-02-20", confirmation_id="c1")])
    assert (change.kind, change.case_id, change.repair, change.detail) == (
        "diagnosed_on_differs", "k1", True, "2020-02-03 → 2020-02-01",
    )  # fmt: skip
    hand = case("k1", "2020-02-03", "2020-02-20", confirmation_id="c1",
                corrected_by_hand=frozenset({"diagnosed_on"}))  # fmt: skip
    [kept] = plan([CLOSED], [hand])
    assert (kept.kind, kept.case_id, kept.repair) == ("diagnosed_on_differs", "k1", False)


def test_both_dates_differing_give_two_changes():
    changes = plan([CLOSED], [case("k1", "2020-02-03", "2020-04-15", confirmation_id="c1")])
    assert summary(changes) == [("diagnosed_on_differs", "k1", True, "c1"), ("closed_on_differs", "k1", True, "c1")]


def test_a_case_of_the_diagnosis_date_without_a_confirmation_is_linked():
    """A case from before cases kept their confirmation is matched by its diagnosis date."""
    changes = plan([CLOSED], [case("k1", "2020-02-01", "2020-02-20")])
    assert summary(changes) == [("link", "k1", True, "c1")]
    assert changes[0].episode == CLOSED
    # linked, and its other differences repaired
    changes = plan([CLOSED], [case("k1", "2020-02-01")])
    assert summary(changes) == [("link", "k1", True, "c1"), ("case_not_closed", "k1", True, "c1")]


def test_the_confirmation_comes_before_the_date_in_matching():
    """A case that follows the confirmation is the episode's, even when another case has the episode's date."""
    followed = case("k1", "2020-02-03", "2020-02-20", confirmation_id="c1")
    dated = case("k2", "2020-02-01", opened_by="civil")
    changes = plan([CLOSED], [followed, dated])
    assert summary(changes) == [("diagnosed_on_differs", "k1", True, "c1")]


def test_a_case_from_the_registry_no_episode_explains_is_reported_only():
    changes = plan([], [case("k1", "2020-02-01", opened_by="event")])
    assert summary(changes) == [("case_without_confirmation", "k1", False, None)]
    assert changes[0].detail == "diagnosed_on 2020-02-01"
    changes = plan([], [case("k1", "2020-02-01", "2020-02-20", opened_by="reconciliation", confirmation_id="gone")])
    assert summary(changes) == [("case_without_confirmation", "k1", False, None)]
    # a case that follows another confirmation, over the months of an episode without a case: that episode's
    # case is missing but not opened (one illness, one case), and the case is reported once, as the overlap
    changes = plan([CLOSED], [case("k1", "2020-02-05", confirmation_id="c9")])
    assert summary(changes) == [("case_missing", "k1", False, "c1")]


def test_a_case_from_the_registry_of_other_months_is_reported_and_the_episode_opened():
    changes = plan([CLOSED], [case("k1", "2020-05-01", "2020-05-20", confirmation_id="c9")])
    assert summary(changes) == [("case_missing", None, True, "c1"), ("case_without_confirmation", "k1", False, None)]


def test_a_hand_opened_case_over_the_episodes_months_stops_a_second_case():
    """One illness is never paid twice: the missing case is reported, not opened."""
    hand = case("k1", "2020-02-05", opened_by="civil")
    changes = plan([CLOSED], [hand])
    assert summary(changes) == [("case_missing", "k1", False, "c1")]
    assert "k1" in changes[0].detail
    # a closed hand-opened case sharing only the last day overlaps too
    edge = case("k1", "2020-01-10", "2020-02-01", opened_by="civil")
    assert summary(plan([CLOSED], [edge])) == [("case_missing", "k1", False, "c1")]
    # an open episode runs on: a later hand-opened case overlaps it
    later = case("k1", "2020-06-01", "2020-06-20", opened_by="civil")
    assert summary(plan([OPEN], [later])) == [("case_missing", "k1", False, "c1")]


def test_a_hand_opened_case_of_other_months_is_not_reported():
    before = case("k1", "2019-12-05", "2019-12-20", opened_by="civil")
    assert summary(plan([CLOSED], [before])) == [("case_missing", None, True, "c1")]
    assert plan([], [before]) == []
    assert plan([], [case("k1", "2020-02-05", opened_by="civil")]) == []


def test_a_closed_case_of_an_open_episode_is_reported_only():
    changes = plan([OPEN], [case("k1", "2020-02-01", "2020-02-20", confirmation_id="c1")])
    assert summary(changes) == [("closed_without_discharge", "k1", False, "c1")]
    assert "2020-02-20" in changes[0].detail


def test_each_episode_takes_its_own_case():
    first = Episode("c1", D("2020-02-01"), D("2020-02-20"), "discharged")
    second = Episode("c2", D("2020-04-02"), D("2020-05-10"), "deceased")
    cases = [
        case("k2", "2020-04-02", confirmation_id="c2"),
        case("k1", "2020-02-01", "2020-02-20", confirmation_id="c1"),
    ]
    assert summary(plan([first, second], cases)) == [("case_not_closed", "k2", True, "c2")]
    # the second episode's case missing: opened, the first case stays as it is
    assert summary(plan([first, second], cases[1:])) == [("case_missing", None, True, "c2")]


def test_the_plan_of_a_plan_carried_out_is_empty():
    """Applying the changes (by hand here) leaves nothing to do: the rule is idempotent."""
    timeline = episodes([
        fact("c1", "confirmed", "2020-02-01"), fact("d1", "discharged", "2020-02-20"),
        fact("c2", "confirmed", "2020-04-02"), fact("x1", "deceased", "2020-05-10"),
    ])  # fmt: skip
    cases = [case("k1", "2020-02-01", "2020-04-15")]  # an old case, closed late, without its confirmation
    changes = plan(timeline, cases)
    assert summary(changes) == [
        ("link", "k1", True, "c1"), ("closed_on_differs", "k1", True, "c1"), ("case_missing", None, True, "c2"),
    ]  # fmt: skip
    repaired = [
        case("k1", "2020-02-01", "2020-02-20", confirmation_id="c1"),
        case("k2", "2020-04-02", "2020-05-10", confirmation_id="c2", opened_by="reconciliation"),
    ]
    assert plan(timeline, repaired) == []
