// The experiment form: one control per config field, generated from the schema, grouped as the paper
// goes (data, networks, losses, stage 1, stage 2, evaluation, run); fields that have no effect for
// the chosen encoder, datasets or loader are hidden, with the reason under their group.
#pragma once
#include <nlohmann/json.hpp>

#include <QMap>
#include <QWidget>

class QFormLayout;
class QLabel;

namespace fan::app {

class ExperimentForm : public QWidget {
  Q_OBJECT
 public:
  explicit ExperimentForm(QWidget* parent = nullptr);

  // Fills every control from `config` (missing fields take their defaults).
  void setConfig(const nlohmann::json& config);
  // The config the controls describe (every field; invalid text stays as typed).
  nlohmann::json config() const;
  // One field: read or write its control.
  nlohmann::json value(const QString& key) const;
  void setValue(const QString& key, const nlohmann::json& value);

  // The first problem ("key: reason"), or empty when every field is valid.
  QString firstProblem() const;
  QString problem(const QString& key) const { return problems_.value(key); }
  QWidget* control(const QString& key) const { return controls_.value(key); }
  // Whether the field's row is shown (false: it has no effect with the values now, see inapplicableReason).
  bool isFieldShown(const QString& key) const;
  // Why a field has no effect now ("only with model.encoder = resnet18, …"), empty when it has one.
  QString inapplicableReason(const QString& key) const { return inapplicable_.value(key); }
  // The note under a group naming its hidden fields and why ("group" as in the schema: "networks").
  QString hiddenNote(const QString& group) const;
  // What the field does, its range, default and the paper's value: the tooltip's text, from the schema.
  static QString describe(const QString& key);

  // Locks the fields that cannot change during a run.
  void setRunning(bool running);

 signals:
  void changed();

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void check(const QString& key);
  // Shows or hides the rows whose `applies` rule depends on the values now.
  void updateApplicability();
  QMap<QString, QWidget*> controls_;
  QMap<QString, QLabel*> problem_labels_;
  QMap<QString, QString> problems_;
  QMap<QString, QWidget*> cells_;              // a field's row widget (control + problem label)
  QMap<QString, QFormLayout*> forms_;          // by group
  QMap<QString, QLabel*> hidden_notes_;        // by group
  QMap<QString, QString> inapplicable_;        // key → reason, for fields without effect now
  bool filling_ = false;
};

}  // namespace fan::app
