"""GraphQL documents the integration tests send."""

SOURCE = "source { agency fetchedAt ageSeconds stale }"
DATE = "{ iso jalali }"
SOURCES = (
    "sources { agency state source { agency stale } "
    "error { code message retryable retryAfterSeconds } }"
)

CITIZEN_FIELDS = f"""
  nationalCode
  profile {{ nationalCode firstName lastName fatherName birthDate {DATE} birthPlace gender alive
            {SOURCE} }}
  address {{ postalCode province city street plaque unit floor {SOURCE} }}
  mobileCheck(mobile: $mobile) {{ mobile result matches {SOURCE} }}
  bills {{ totalAmount complete items {{ kind billId paymentId amount dueDate {DATE} subscription
           description paid {SOURCE} }} {SOURCES} }}
  licenses {{ complete items {{ kind number title issuer status holderName expiresAt {DATE}
              {SOURCE} }} {SOURCES} }}
  records {{
    vehicles {{ items {{ plate vin model year }} {SOURCE} }}
    education {{ items {{ level field school graduationYear }} {SOURCE} }}
    socialSecurity {{ insuranceNo status contributionMonths employers {{ name start {DATE} }}
                      {SOURCE} }}
    healthInsurance {{ covered plan validUntil {DATE} {SOURCE} }}
    judicialNotices {{ unreadCount items {{ noticeId title issuedAt {DATE} read }} {SOURCE} }}
    militaryService {{ status cardNumber {SOURCE} }}
    tax {{ status filings {{ year status }} {SOURCE} }}
    deeds {{ items {{ deedNumber kind unit address share {{ numerator denominator dang }}
                     issuedAt {DATE} }} {SOURCE} }}
  }}
"""

ME = f"query Me($mobile: String!) {{ me {{ {CITIZEN_FIELDS} }} }}"

CITIZEN = (
    "query Citizen($nc: String!, $purpose: String!, $mobile: String!) "
    f"{{ citizen(nationalCode: $nc, purpose: $purpose) {{ {CITIZEN_FIELDS} }} }}"
)

PROFILE = f"{{ me {{ profile {{ firstName lastName {SOURCE} }} }} }}"

BILLS = f"{{ me {{ bills {{ totalAmount complete items {{ kind amount }} {SOURCES} }} }} }}"

BILL_INQUIRY = """
query Inquiry($billId: String!, $paymentId: String!) {
  billInquiry(billId: $billId, paymentId: $paymentId) {
    billId paymentId service companyCode fileCode amount yearDigit period
  }
}
"""

HOME = (
    "{ me { profile { firstName lastName birthDate { jalali } source { stale ageSeconds } } "
    "bills { totalAmount complete items { kind amount dueDate { jalali } } } "
    "licenses { items { kind title status expiresAt { jalali } } } } }"
)
"""The home screen of the mobile app (issue 7's benchmark query)."""
