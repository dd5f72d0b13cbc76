"""Process FMEA: failure modes ranked by AIAG-VDA action priority, learning from failures."""
