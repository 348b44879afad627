"""Building blocks shared by both systems: convolution blocks and losses."""
