// The experiment form: one control per config field, generated from the schema.
#pragma once
#include <nlohmann/json.hpp>

#include <QMap>
#include <QWidget>

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

  // Locks the fields that cannot change during a run.
  void setRunning(bool running);

 signals:
  void changed();

 private:
  void check(const QString& key);
  QMap<QString, QWidget*> controls_;
  QMap<QString, QLabel*> problem_labels_;
  QMap<QString, QString> problems_;
  bool filling_ = false;
};

}  // namespace fan::app
