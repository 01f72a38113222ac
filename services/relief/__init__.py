"""Relief (救助): dibao standards, temporary relief for patients, payment batches and bank files, insurance."""
