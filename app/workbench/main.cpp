// `fan-workbench [PROJECT.json]`: the GUI.
#include "main_window.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFile>

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("fan-workbench");
  QApplication::setOrganizationName("FAN Workbench");
  QCommandLineParser parser;
  parser.setApplicationDescription("FAN Workbench: unsupervised domain adaptation with Factorized Adversarial Networks");
  parser.addHelpOption();
  parser.addPositionalArgument("project", "Project file to open (projects/*.json)");
  QCommandLineOption run_option("run", "Start the run at once");
  parser.addOption(run_option);
  parser.process(app);

  QFile style(":/fan/style.qss");
  if (style.open(QIODevice::ReadOnly)) app.setStyleSheet(QString::fromUtf8(style.readAll()));

  fan::app::MainWindow window;
  window.resize(1400, 900);
  window.show();
  if (!parser.positionalArguments().isEmpty()) {
    if (window.openProject(parser.positionalArguments().first()) && parser.isSet(run_option))
      window.runExperiment();
  }
  return app.exec();
}
