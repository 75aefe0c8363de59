"""What `make run` prints before serving: where to go and how to sign in."""

from app.demo import AGENCY_STAFF, DANISH, DEMO_PASSWORD, NORWEGIAN

BANNER = """
Venlig is starting on http://127.0.0.1:5000

  Sign in at http://127.0.0.1:5000/login (password for every demo user: {password})
{logins}
  Dev phone (every text the demo debtors get): http://127.0.0.1:5000/dev/phone/
  Some demo debtors have already answered: chats wait in the agents' queues, risk signals
  in the supervisor's, and one invoice is paid, one promised and one on a plan.
  Health: http://127.0.0.1:5000/healthz
  The worker sends due reminders within a minute, inside the debtors' contact hours.
"""


def main() -> None:
    logins = [
        f"    {role.value:<10} {email}" for email, _name, role, _lang in AGENCY_STAFF
    ]
    logins += [
        f"    {'creditor':<10} {spec.slug}@venlig.test" for spec in (DANISH, NORWEGIAN)
    ]
    print(BANNER.format(password=DEMO_PASSWORD, logins="\n".join(logins)))


if __name__ == "__main__":
    main()
