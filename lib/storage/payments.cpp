#include "storage/payments.hpp"

#include "ingest/csv_reader.hpp"
#include "ingest/import_rows.hpp"
#include "storage/imports.hpp"
#include "util/errors.hpp"
#include "util/text.hpp"

#include <variant>

// Every statement here is fixed text; values are bound (soci::use).

namespace billing {

namespace {

// The switch-off reason kept on the account (its column holds 500
// characters): the key and the provider's reason, cut to this many bytes.
constexpr std::size_t k_off_reason_bytes_max = 400;

// The payment_requests and accounts statements of a results file, each
// prepared once and bound to the members it reads or writes.
class PaymentStore
{
public:
  explicit PaymentStore(Database& db)
    : m_dialect(db.dialect())
    , m_lookup(db.sql())
    , m_record(db.sql())
    , m_switch_off(db.sql())
  {
    m_lookup.exchange(soci::into(m_stored_status));
    m_lookup.exchange(soci::into(m_stored_ref, m_stored_ref_ind));
    m_lookup.exchange(soci::into(m_account_id));
    m_lookup.exchange(soci::use(m_key, "key"));
    m_lookup.alloc();
    m_lookup.prepare("SELECT status, provider_ref, account_id FROM payment_requests WHERE "
                     "idempotency_key = :key");
    m_lookup.define_and_bind();

    m_record.exchange(soci::use(m_status, "status"));
    m_record.exchange(soci::use(m_ref, "provider_ref"));
    m_record.exchange(soci::use(m_failure, m_failure_ind, "failure_reason"));
    m_record.exchange(soci::use(m_result_us, "result_us"));
    m_record.exchange(soci::use(m_key, "key"));
    m_record.alloc();
    m_record.prepare("UPDATE payment_requests SET status = :status, provider_ref = "
                     + m_dialect.text_slot("provider_ref")
                     + ", failure_reason = " + m_dialect.text_slot("failure_reason")
                     + ", result_us = :result_us WHERE idempotency_key = :key");
    m_record.define_and_bind();

    m_switch_off.exchange(soci::use(m_off_reason, "off_reason"));
    m_switch_off.exchange(soci::use(m_account_id, "account_id"));
    m_switch_off.alloc();
    m_switch_off.prepare("UPDATE accounts SET auto_recharge = 0, auto_recharge_off_reason = "
                         + m_dialect.text_slot("off_reason") + " WHERE account_id = :account_id");
    m_switch_off.define_and_bind();
  }
  PaymentStore(const PaymentStore&) = delete;
  PaymentStore& operator=(const PaymentStore&) = delete;

  enum class Effect
  {
    recorded,        // the request was pending: the result is stored
    already_recorded // the same result came before: nothing changes
  };

  // Applies one result, or says why it is rejected.
  std::variant<Effect, ImportRejection> apply(const PaymentResultRow& row, Instant now)
  {
    // Keys are ours (recharge:<account>:<date>:<n>), never with a NUL byte;
    // bound as it is, such a key would be cut at it (see Dialect::text_slot()).
    if (row.idempotency_key.find('\0') != std::string::npos) {
      return ImportRejection{ ImportReason::unknown_key, row.idempotency_key };
    }
    m_key = row.idempotency_key;
    if (!m_lookup.execute(true)) {
      return ImportRejection{ ImportReason::unknown_key, row.idempotency_key };
    }
    const std::string stored_ref = m_stored_ref_ind == soci::i_null ? std::string() : m_stored_ref;
    if (m_stored_status != "pending") {
      if (m_stored_status == to_string(row.status) && stored_ref == row.provider_ref) {
        return Effect::already_recorded;
      }
      return ImportRejection{ ImportReason::conflicting_content,
                              "contradicts the stored result: " + row.idempotency_key + " is "
                                + m_stored_status + " (" + stored_ref + ")" };
    }
    m_status = to_string(row.status);
    m_ref = m_dialect.text_value(row.provider_ref);
    m_failure = m_dialect.text_value(row.failure_reason.value_or(""));
    m_failure_ind = row.failure_reason ? soci::i_ok : soci::i_null;
    m_result_us = now.us;
    m_record.execute(true);
    if (row.status == PaymentOutcome::failed) {
      const std::string why = "payment " + row.idempotency_key
                              + " failed: " + row.failure_reason.value_or("no reason given");
      m_off_reason = m_dialect.text_value(valid_utf8(why.substr(0, k_off_reason_bytes_max)));
      m_switch_off.execute(true);
    }
    return Effect::recorded;
  }

private:
  const Dialect& m_dialect;
  // Bound values (the statements hold references to them).
  std::string m_key;
  std::string m_stored_status;
  std::string m_stored_ref;
  soci::indicator m_stored_ref_ind = soci::i_ok;
  long long m_account_id = 0;
  std::string m_status;
  std::string m_ref;
  std::string m_failure;
  soci::indicator m_failure_ind = soci::i_null;
  long long m_result_us = 0;
  std::string m_off_reason;
  soci::statement m_lookup;
  soci::statement m_record;
  soci::statement m_switch_off;
};

} // namespace

ImportReport import_payment_results(Database& db, const std::string& path, Instant now)
{
  ImportReport report;
  Transaction tx(db);
  {
    PaymentStore store(db);
    read_import_file(
      path, k_payment_result_format, [&](const ImportHeader& header, const CsvRecord& record) {
        ++report.rows;
        const auto parsed = parse_payment_result_row(header, record);
        if (const auto* bad = std::get_if<ImportRejection>(&parsed)) {
          report.rejected.push_back(make_row_reject(record.line, *bad));
          return;
        }
        const auto applied = store.apply(std::get<PaymentResultRow>(parsed), now);
        if (const auto* bad = std::get_if<ImportRejection>(&applied)) {
          report.rejected.push_back(make_row_reject(record.line, *bad));
        } else if (std::get<PaymentStore::Effect>(applied) == PaymentStore::Effect::recorded) {
          ++report.updated;
        } else {
          ++report.unchanged;
        }
      });
  }
  tx.commit();
  return report;
}

} // namespace billing
