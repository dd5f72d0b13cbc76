"""The service-recovery strategy workspace: organisational assessment, operating model, the
metrics in four categories and the strategy map from objective to recovered customer."""
